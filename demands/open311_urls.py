from django.urls import re_path

from demands import open311

FMT = r"\.(?P<response_format>[a-z]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, open311.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, open311.service_list, name="open311-services"),
    re_path(r"^services/(?P<service_code>[-\w]+)" + FMT, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, open311.requests_view, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>\d+)" + FMT, open311.request_detail, name="open311-request"),
]

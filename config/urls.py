from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.health import healthz
from demands import list_views
from demands import views as demands_views
from grid import views as grid_views
from grid.auth import token_view
from residents import views as residents_views
from services import views as services_views

urlpatterns = [
    path("", grid_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("dashboard/", grid_views.dashboard, name="dashboard"),
    path("dashboard/<int:node_id>/", grid_views.dashboard, name="dashboard-node"),
    path("m/", grid_views.mobile_home, name="mobile-home"),
    path("m/residents/", residents_views.mobile_search, name="mobile-resident-search"),
    path("m/households/<int:pk>/", residents_views.mobile_household, name="mobile-household"),
    path("m/residents/<int:pk>/call/", residents_views.mobile_call, name="mobile-call"),
    path("residents/", include("residents.urls")),
    path("m/tickets/", demands_views.mobile_queue, name="mobile-queue"),
    path("m/tickets/<int:pk>/", demands_views.mobile_ticket, name="mobile-ticket"),
    path("m/tickets/<int:pk>/call/", demands_views.mobile_call_reporter, name="mobile-call-reporter"),
    path("m/report/", demands_views.mobile_report, name="mobile-report"),
    path("m/wishes/", list_views.mobile_wishes, name="mobile-wishes"),
    path("w/<str:code>/", list_views.wish_wall, name="wish-wall"),
    path("m/visits/", services_views.mobile_visits, name="mobile-visits"),
    path("m/visits/<int:household_id>/new/", services_views.mobile_visit_new, name="mobile-visit-new"),
    path("m/events/", services_views.mobile_events, name="mobile-events"),
    path("m/points/", services_views.mobile_points, name="mobile-points"),
    path("m/events/<int:pk>/", services_views.mobile_event_signin, name="mobile-event-signin"),
    path("e/<str:code>/", services_views.self_checkin, name="event-checkin"),
    path("services/programmes/<int:pk>/", services_views.programme_eligible, name="programme-eligible"),
    path("services/leaderboard/", services_views.leaderboard, name="leaderboard"),
    path("r/<str:code>/", demands_views.public_report, name="public-report"),
    path("t/<str:code>/", demands_views.public_track, name="public-track"),
    path("tickets/qr/", demands_views.qr_sheet, name="ticket-qr"),
    path("open311/v2/", include("demands.open311_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/auth/token/", token_view, name="api-token"),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from config.health import healthz
from grid import views as grid_views
from residents import views as residents_views

urlpatterns = [
    path("", grid_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("m/", grid_views.mobile_home, name="mobile-home"),
    path("m/residents/", residents_views.mobile_search, name="mobile-resident-search"),
    path("m/households/<int:pk>/", residents_views.mobile_household, name="mobile-household"),
    path("m/residents/<int:pk>/call/", residents_views.mobile_call, name="mobile-call"),
    path("residents/", include("residents.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/auth/token/", obtain_auth_token, name="api-token"),
    path("api/v1/", include("config.api_router")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

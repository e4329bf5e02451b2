"""The REST API's one router: each app contributes its registrations."""

from rest_framework.routers import DefaultRouter

from demands.api.urls import router as demands_router
from grid.api.urls import router as grid_router
from residents.api.urls import router as residents_router
from services.api.urls import router as services_router

# No `.json` twins of every route: the API speaks JSON (negotiated by Accept), and the twins passed
# a `format` argument that the viewsets' actions do not take.
router = DefaultRouter()
router.include_format_suffixes = False
for app_router in (grid_router, residents_router, demands_router, services_router):
    router.registry.extend(app_router.registry)

urlpatterns = router.urls

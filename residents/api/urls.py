from rest_framework.routers import DefaultRouter

from residents.api import views

router = DefaultRouter()
router.register("households", views.HouseholdViewSet, basename="household")
router.register("residents", views.ResidentViewSet, basename="resident")
router.register("situation", views.SituationViewSet, basename="situation")

from rest_framework.routers import DefaultRouter

from services.api import views

router = DefaultRouter()
router.register("service-events", views.EventViewSet, basename="service-event")
router.register("visits", views.VisitViewSet, basename="visit")
router.register("programs", views.ProgrammeViewSet, basename="program")
router.register("points", views.PointsViewSet, basename="points")
router.register("assessments", views.AssessmentViewSet, basename="assessment")

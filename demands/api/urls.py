from rest_framework.routers import DefaultRouter

from demands.api import lists, views

router = DefaultRouter()
router.register("ticket-categories", views.CategoryViewSet, basename="ticket-category")
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("demands", lists.DemandViewSet, basename="demand")
router.register("resources", lists.ResourceViewSet, basename="resource")
router.register("projects", lists.ProjectViewSet, basename="project")
router.register("claims", lists.ClaimViewSet, basename="claim")
router.register("registrations", lists.RegistrationViewSet, basename="registration")
router.register("topics", lists.TopicViewSet, basename="topic")

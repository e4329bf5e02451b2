from rest_framework.routers import DefaultRouter

from demands.api import views

router = DefaultRouter()
router.register("ticket-categories", views.CategoryViewSet, basename="ticket-category")
router.register("tickets", views.TicketViewSet, basename="ticket")

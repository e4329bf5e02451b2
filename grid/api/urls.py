from rest_framework.routers import DefaultRouter

from grid.api import metrics, views

router = DefaultRouter()
router.register("nodes", views.NodeViewSet, basename="node")
router.register("party-organizations", views.PartyOrganizationViewSet, basename="party-organization")
router.register("party-memberships", views.PartyMembershipViewSet, basename="party-membership")
router.register("units", views.UnitViewSet, basename="unit")
router.register("assignments", views.AssignmentViewSet, basename="assignment")
router.register("metrics", metrics.MetricViewSet, basename="metric")

"""Reads: every list starts here, already narrowed by the scope rule and joined for display."""

from django.db.models import Count, Q, QuerySet

from grid.models import (
    Assignment,
    CoBuildingUnit,
    GridNode,
    PartyMembership,
    PartyOrganization,
    User,
    WorkerHeartbeat,
)
from grid.scope import scope_queryset


def node_list(*, user) -> QuerySet[GridNode]:
    return scope_queryset(GridNode.objects.all(), user)


def party_organization_list(*, user) -> QuerySet[PartyOrganization]:
    return scope_queryset(
        PartyOrganization.objects.select_related("node")
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
        .order_by("path"),
        user,
    )


def party_membership_list(*, user) -> QuerySet[PartyMembership]:
    return scope_queryset(
        PartyMembership.objects.select_related("organization", "organization__node", "work_unit"), user
    )


def unit_list(*, user) -> QuerySet[CoBuildingUnit]:
    return scope_queryset(
        CoBuildingUnit.objects.select_related("community")
        .annotate(party_member_count=Count("party_members", filter=Q(party_members__left_on__isnull=True)))
        .order_by("community__path", "name"),
        user,
    )


def assignment_list(*, user) -> QuerySet[Assignment]:
    return scope_queryset(Assignment.objects.select_related("user", "node"), user)


def user_list(*, user) -> QuerySet[User]:
    return scope_queryset(User.objects.select_related("home_node"), user)


def node_ancestors(node: GridNode) -> QuerySet[GridNode]:
    """The node's ancestors from the root down, in one query."""
    steplen = GridNode.steplen
    paths = [node.path[:end] for end in range(steplen, len(node.path), steplen)]
    return GridNode.objects.filter(path__in=paths).order_by("path")


def heartbeat_latest() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-seen_at").first()

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from demands.choices import FINAL_STATUSES, TicketStatus
from demands.models import ApiClient, Ticket, TicketCategory, TicketEvent, TicketPhoto
from grid.scope import scope_queryset


def ticket_list(*, user) -> QuerySet[Ticket]:
    return scope_queryset(Ticket.objects.select_related("category", "node", "node__parent", "assignee"), user)


def ticket_detail_queryset(*, user) -> QuerySet[Ticket]:
    return ticket_list(user=user).prefetch_related(
        Prefetch(
            "events",
            queryset=TicketEvent.objects.select_related("actor", "assignee").order_by("created_at", "id"),
        ),
        Prefetch("photos", queryset=TicketPhoto.objects.order_by("uploaded_at", "id")),
    )


def worker_queue(*, user) -> QuerySet[Ticket]:
    """Mine and unclaimed ones in my area: overdue first, then new, then in hand."""
    return (
        ticket_list(user=user)
        .filter(
            Q(assignee=user, status__in=[TicketStatus.ASSIGNED, TicketStatus.ACCEPTED, TicketStatus.REOPENED])
            | Q(
                assignee__isnull=True,
                status__in=[
                    TicketStatus.SUBMITTED,
                    TicketStatus.RETURNED,
                    TicketStatus.ESCALATED,
                    TicketStatus.REOPENED,
                ],
            )
        )
        .annotate(
            rank=Case(
                When(is_overdue=True, then=Value(0)),
                When(status=TicketStatus.ASSIGNED, then=Value(1)),
                When(status=TicketStatus.ACCEPTED, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "resolution_due")
    )


def public_ticket(tracking_code: str) -> Ticket | None:
    return (
        Ticket.objects.select_related("category", "node", "node__parent")
        .prefetch_related(
            Prefetch("events", queryset=TicketEvent.objects.order_by("created_at", "id")),
            Prefetch("photos", queryset=TicketPhoto.objects.order_by("uploaded_at", "id")),
        )
        .filter(tracking_code=tracking_code.strip().upper())
        .first()
    )


def active_categories() -> QuerySet[TicketCategory]:
    return TicketCategory.objects.filter(is_active=True).order_by("order", "code")


def is_open(ticket: Ticket) -> bool:
    return ticket.status not in FINAL_STATUSES


def api_client_list(*, user) -> QuerySet[ApiClient]:
    return scope_queryset(ApiClient.objects.select_related("node", "created_by"), user)


def demand_list(*, user) -> QuerySet:
    from django.db.models import Count

    from demands.models import Demand

    return scope_queryset(
        Demand.objects.select_related("node", "beneficiary_resident")
        .annotate(active_claims=Count("claims", filter=Q(claims__status__in=["claimed", "in_progress"])))
        .order_by("-created_at"),
        user,
    )


def resource_list(*, user) -> QuerySet:
    from demands.models import Resource

    return scope_queryset(Resource.objects.select_related("community", "unit", "member"), user)


def project_list(*, user) -> QuerySet:
    from demands.models import Milestone, Project

    return scope_queryset(
        Project.objects.select_related("node", "owner_unit").prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.order_by("due_on", "id")), "demands"
        ),
        user,
    )


def claim_list(*, user) -> QuerySet:
    from demands.models import Claim

    return scope_queryset(
        Claim.objects.select_related("community", "demand", "project", "unit", "member"), user
    )


def registration_list(*, user) -> QuerySet:
    from demands.models import CommunityRegistration

    return scope_queryset(
        CommunityRegistration.objects.select_related("community", "unit", "member", "decided_by"), user
    )


def topic_list(*, user) -> QuerySet:
    from django.db.models import Count

    from demands.models import Topic, TopicOption

    return scope_queryset(
        Topic.objects.select_related("node")
        .prefetch_related(
            "participants",
            Prefetch("options", queryset=TopicOption.objects.annotate(votes=Count("ballots")).order_by("id")),
            "meetings",
        )
        .order_by("-created_at"),
        user,
    )


def my_memberships(user) -> QuerySet:
    """The party memberships held by a signed-in account."""
    from grid.models import PartyMembership

    return PartyMembership.objects.filter(user=user, left_on__isnull=True).select_related("organization")

import datetime

from django.db.models import Case, Count, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from grid.scope import scope_queryset
from residents.choices import Colour, ResidentStatus
from residents.models import Household
from services.models import Assessment, PointsAccount, Programme, ServiceEvent, Visit
from services.services import cadence_days


def event_list(*, user) -> QuerySet[ServiceEvent]:
    return scope_queryset(
        ServiceEvent.objects.select_related("node", "kind", "organizer_unit", "organizer_org")
        .annotate(participant_count=Count("participations"), volunteer_hours=Sum("participations__hours"))
        .order_by("-starts_at"),
        user,
    )


def visit_list(*, user) -> QuerySet[Visit]:
    return scope_queryset(
        Visit.objects.select_related(
            "household", "household__node", "household__node__parent", "visitor", "ticket", "demand"
        ),
        user,
    )


def programme_list(*, user) -> QuerySet[Programme]:
    return scope_queryset(Programme.objects.select_related("node"), user)


def due_condition(on: datetime.datetime | None = None) -> Q:
    """Households whose last visit is older than their colour's cadence (or who were never visited)."""
    now = on or timezone.now()
    days = cadence_days()
    condition = Q()
    for colour in (Colour.RED, Colour.YELLOW, Colour.BLUE, ""):
        cutoff = now - datetime.timedelta(days=days.get(colour or Colour.BLUE))
        condition |= Q(colour=colour) & (Q(last_visit__isnull=True) | Q(last_visit__lt=cutoff))
    return condition


def overdue_households(*, user, on: datetime.datetime | None = None) -> QuerySet[Household]:
    """The households in my area that are due a visit: red first, then those waited longest."""
    households = scope_queryset(Household.objects.all(), user, permission="services.add_visit")
    return (
        households.select_related("node", "node__parent", "head")
        .annotate(
            last_visit=Max("visits__visited_at"),
            member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE), distinct=True),
            urgency=Case(
                When(colour=Colour.RED, then=Value(0)),
                When(colour=Colour.YELLOW, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .filter(due_condition(on))
        .order_by("urgency", "last_visit", "node__path", "room")
    )


def account_list(*, user) -> QuerySet[PointsAccount]:
    return scope_queryset(
        PointsAccount.objects.select_related("community", "user", "member").annotate(
            balance=Sum("entries__amount")
        ),
        user,
    )


def assessment_list(*, user) -> QuerySet[Assessment]:
    return scope_queryset(
        Assessment.objects.select_related("round", "round__street", "grid", "grid__parent").order_by(
            "-round__month",
            "rank_in_street",
            "grid__path",  # tied grids (one rank) in tree order
        ),
        user,
    )

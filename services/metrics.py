"""Service, visit and volunteer metrics, registered with grid's rollup engine."""

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from grid.rollup import Metric, period_bounds, register

SERVICE_METRICS = ("events_held", "person_times", "volunteer_hours", "party_person_times")
VISIT_METRICS = ("visits_done", "households_visited", "key_households_visited")


def register_metrics() -> None:
    from services.models import Participation, ServiceEvent, Visit

    def events(node, start, end):
        """The events behind a figure: held (not cancelled) in the subtree, starting in the period."""
        low, high = period_bounds(start, end)
        query = urlencode(
            {
                "subtree": node.pk,
                "starts_at__gte": low.isoformat(),
                "starts_at__lt": high.isoformat(),
                "cancelled_at__isnull": "True",
            }
        )
        return reverse("admin:services_serviceevent_changelist") + "?" + query

    def visits(node, start, end):
        low, high = period_bounds(start, end)
        return (
            reverse("admin:services_visit_changelist")
            + "?"
            + urlencode(
                {"subtree": node.pk, "visited_at__gte": low.isoformat(), "visited_at__lt": high.isoformat()}
            )
        )

    register(
        Metric(
            "events_held",
            _("Service events"),
            lambda: ServiceEvent.objects.filter(cancelled_at__isnull=True),
            "node__path",
            "starts_at",
            lambda: Count("id"),
            dimensions=("kind__code",),
            records=events,
        ),
        Metric(
            "person_times",
            _("Person-times served"),
            Participation.objects.all,
            "event__node__path",
            "event__starts_at",
            lambda: Count("id"),
            records=events,
        ),
        Metric(
            "volunteer_hours",
            _("Volunteer hours"),
            Participation.objects.all,
            "event__node__path",
            "event__starts_at",
            lambda: Sum("hours"),
            records=events,
        ),
        Metric(
            "party_person_times",
            _("Party-member person-times"),
            Participation.objects.all,
            "event__node__path",
            "event__starts_at",
            lambda: Count("id", filter=Q(role="in_service_member")),
            records=events,
        ),
        Metric(
            "visits_done",
            _("Home visits"),
            Visit.objects.all,
            "household__node__path",
            "visited_at",
            lambda: Count("id"),
            records=visits,
        ),
        # Distinct households: a week's figure is not the sum of its days'.
        Metric(
            "households_visited",
            _("Households visited"),
            Visit.objects.all,
            "household__node__path",
            "visited_at",
            lambda: Count("household", distinct=True),
            additive=False,
            records=visits,
        ),
        # Red and yellow households (by their colour now, as the population figure counts them).
        Metric(
            "key_households_visited",
            _("Red and yellow households visited"),
            lambda: Visit.objects.filter(household__colour__in=["red", "yellow"]),
            "household__node__path",
            "visited_at",
            lambda: Count("household", distinct=True),
            additive=False,
            records=lambda node, start, end: visits(node, start, end) + "&key=1",
        ),
    )

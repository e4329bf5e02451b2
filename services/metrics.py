"""Service, visit and volunteer metrics, registered with grid's rollup engine."""

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from grid.rollup import Metric, records_of, register

SERVICE_METRICS = ("events_held", "person_times", "volunteer_hours", "party_person_times")
VISIT_METRICS = ("visits_done", "households_visited", "key_households_visited")


def register_metrics() -> None:
    from services.models import Participation, ServiceEvent, Visit

    # The events behind a figure: held (not cancelled) in the subtree, starting in the period.
    events = records_of("services_serviceevent", "starts_at", cancelled_at__isnull="True")

    def served():
        """Who served at events that took place: a cancelled event's sign-ins count nowhere."""
        return Participation.objects.filter(event__cancelled_at__isnull=True)

    visits = records_of("services_visit", "visited_at")

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
            served,
            "event__node__path",
            "event__starts_at",
            lambda: Count("id"),
            records=events,
        ),
        Metric(
            "volunteer_hours",
            _("Volunteer hours"),
            served,
            "event__node__path",
            "event__starts_at",
            lambda: Sum("hours"),
            records=events,
        ),
        Metric(
            "party_person_times",
            _("Party-member person-times"),
            served,
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
            records=records_of("services_visit", "visited_at", key="1"),
        ),
    )

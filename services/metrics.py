"""Service, visit and volunteer metrics, registered with grid's rollup engine."""

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from grid.rollup import Metric, register

SERVICE_METRICS = ("events_held", "person_times", "volunteer_hours", "party_person_times")
VISIT_METRICS = ("visits_done", "households_visited")


def register_metrics() -> None:
    from services.models import Participation, ServiceEvent, Visit

    def events(node, start, end):
        return reverse("admin:services_serviceevent_changelist") + f"?subtree={node.pk}"

    def visits(node, start, end):
        return reverse("admin:services_visit_changelist") + f"?subtree={node.pk}"

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
    )

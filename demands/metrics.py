"""Ticket and demand metrics, registered with grid's rollup engine."""

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from grid.rollup import Metric, period_bounds, register

# What each change to a ticket can alter: its creation, its closing (or reopening), its rating.
RECEIVED_METRICS = ("tickets_received",)
CLOSED_METRICS = ("tickets_closed", "tickets_on_time")
RATING_METRICS = ("satisfaction", "rating_sum")
TICKET_METRICS = RECEIVED_METRICS + CLOSED_METRICS + RATING_METRICS
DEMAND_METRICS = ("demands_collected", "demands_fulfilled", "wishes_collected", "wishes_fulfilled")


def register_metrics() -> None:
    from demands.models import Demand, Ticket

    def tickets_records(**extra):
        def url(node, start, end):
            low, high = period_bounds(start, end)
            query = urlencode(
                {
                    "subtree": node.pk,
                    "created_at__gte": low.isoformat(),
                    "created_at__lt": high.isoformat(),
                    **extra,
                }
            )
            return reverse("admin:demands_ticket_changelist") + "?" + query

        return url

    def demand_records(**extra):
        return lambda node, start, end: (
            reverse("admin:demands_demand_changelist")
            + f"?subtree={node.pk}"
            + "".join(f"&{k}={v}" for k, v in extra.items())
        )

    register(
        Metric(
            "tickets_received",
            _("Tickets received"),
            Ticket.objects.all,
            "node__path",
            "created_at",
            lambda: Count("id"),
            dimensions=("category__code", "source"),
            records=tickets_records(),
        ),
        Metric(
            "tickets_closed",
            _("Tickets closed"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "closed_at",
            lambda: Count("id"),
            dimensions=("category__code",),
            records=tickets_records(status__exact="closed"),
        ),
        Metric(
            "tickets_on_time",
            _("Closed on time"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "closed_at",
            lambda: Count("id", filter=Q(is_overdue=False)),
            denominator=lambda: Count("id"),
            records=tickets_records(status__exact="closed", overdue="no"),
        ),
        Metric(
            "satisfaction",
            _("Satisfied (rating 4 or 5)"),
            lambda: Ticket.objects.filter(rating__isnull=False),
            "node__path",
            "rated_at",
            lambda: Count("id", filter=Q(rating__gte=4)),
            denominator=lambda: Count("id"),
            records=tickets_records(),
        ),
        Metric(
            "rating_sum",
            _("Rating total"),
            lambda: Ticket.objects.filter(rating__isnull=False),
            "node__path",
            "rated_at",
            lambda: Sum("rating"),
            denominator=lambda: Count("id"),
        ),
        Metric(
            "demands_collected",
            _("Demands collected"),
            Demand.objects.all,
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=demand_records(),
        ),
        Metric(
            "demands_fulfilled",
            _("Demands fulfilled"),
            lambda: Demand.objects.filter(status="fulfilled"),
            "node__path",
            "fulfilled_at",
            lambda: Count("id"),
            records=demand_records(status__exact="fulfilled"),
        ),
        Metric(
            "wishes_collected",
            _("Micro-wishes collected"),
            lambda: Demand.objects.filter(is_micro_wish=True),
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=demand_records(is_micro_wish__exact=1),
        ),
        Metric(
            "wishes_fulfilled",
            _("Micro-wishes fulfilled"),
            lambda: Demand.objects.filter(is_micro_wish=True, status="fulfilled"),
            "node__path",
            "fulfilled_at",
            lambda: Count("id"),
            records=demand_records(is_micro_wish__exact=1, status__exact="fulfilled"),
        ),
    )

"""Ticket and demand metrics, registered with grid's rollup engine."""

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext_lazy as _

from grid.histogram import MinuteBucket, MinutesBetween
from grid.rollup import Dimension, Metric, records_of, register

# What each change to a ticket can alter: its creation, its closing (or reopening), its rating.
# Accepting a ticket, or clearing its acceptance (a return, an escalation, a reopen), alters the
# response times of the day it was accepted on; rating a closed ticket alters the rating coverage
# of the day it was closed on.
RECEIVED_METRICS = ("tickets_received",)
# Of the tickets received on a day, how many are closed now: the closure rate of any period
# (closed ÷ received, 0–100 %), changing on the day received whenever one closes or reopens.
CLOSED_OF_RECEIVED = ("tickets_received_closed",)
RESPONSE_METRICS = ("response_minutes",)
CLOSED_METRICS = ("tickets_closed", "tickets_on_time", "resolution_minutes", "rating_coverage")
RATING_METRICS = ("satisfaction", "rating_sum")
RATED_ON_CLOSED_DAY = ("rating_coverage",)
TICKET_METRICS = RECEIVED_METRICS + CLOSED_OF_RECEIVED + RESPONSE_METRICS + CLOSED_METRICS + RATING_METRICS
DEMAND_METRICS = (
    "demands_collected",
    "demands_fulfilled",
    "demands_collected_fulfilled",
    "wishes_collected",
    "wishes_fulfilled",
)


def register_metrics() -> None:
    from demands.models import Demand, Ticket

    def tickets_records(date="created_at", **extra):
        return records_of("demands_ticket", date, **extra)

    def demand_records(date="created_at", **extra):
        """The demands behind a figure: of the subtree, dated in the period as the metric dates them."""
        return records_of("demands_demand", date, **extra)

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
            "tickets_received_closed",
            _("Tickets received, closed since"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=tickets_records(status__exact="closed"),
        ),
        Metric(
            "tickets_closed",
            _("Tickets closed"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "closed_at",
            lambda: Count("id"),
            dimensions=("category__code",),
            records=tickets_records("closed_at", status__exact="closed"),
        ),
        Metric(
            "tickets_on_time",
            _("Closed on time"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "closed_at",
            lambda: Count("id", filter=Q(is_overdue=False)),
            denominator=lambda: Count("id"),
            records=tickets_records("closed_at", status__exact="closed", overdue="no"),
        ),
        # Durations: total minutes over the count (the mean, for every period), and a histogram
        # per month, quarter and year from which the median and 90th percentile are read.
        Metric(
            "response_minutes",
            _("Response time (minutes)"),
            lambda: Ticket.objects.filter(accepted_at__isnull=False),
            "node__path",
            "accepted_at",
            lambda: Sum(MinutesBetween("created_at", "accepted_at")),
            denominator=lambda: Count("id"),
            dimensions=(Dimension("m", lambda: MinuteBucket("created_at", "accepted_at")),),
            quantiles=(50, 90),
            unit="min",
            records=tickets_records("accepted_at"),
        ),
        # From report to resolution, counted when the ticket closes: not to the closing itself,
        # which waits up to 7 days for the reporter's rating and would swamp the handling time.
        Metric(
            "resolution_minutes",
            _("Resolution time (minutes)"),
            lambda: Ticket.objects.filter(status="closed", resolved_at__isnull=False),
            "node__path",
            "closed_at",
            lambda: Sum(MinutesBetween("created_at", "resolved_at")),
            denominator=lambda: Count("id"),
            dimensions=(Dimension("m", lambda: MinuteBucket("created_at", "resolved_at")),),
            quantiles=(50, 90),
            unit="min",
            records=tickets_records("closed_at", status__exact="closed"),
        ),
        Metric(
            "rating_coverage",
            _("Closed tickets rated"),
            lambda: Ticket.objects.filter(status="closed"),
            "node__path",
            "closed_at",
            lambda: Count("id", filter=Q(rating__isnull=False)),
            denominator=lambda: Count("id"),
            records=tickets_records("closed_at", status__exact="closed"),
        ),
        Metric(
            "satisfaction",
            _("Satisfied (rating 4 or 5)"),
            lambda: Ticket.objects.filter(rating__isnull=False),
            "node__path",
            "rated_at",
            lambda: Count("id", filter=Q(rating__gte=4)),
            denominator=lambda: Count("id"),
            records=tickets_records("rated_at"),
        ),
        Metric(
            "rating_sum",
            _("Rating total"),
            lambda: Ticket.objects.filter(rating__isnull=False),
            "node__path",
            "rated_at",
            lambda: Sum("rating"),
            denominator=lambda: Count("id"),
            records=tickets_records("rated_at"),
        ),
        # A cancelled demand (withdrawn, a duplicate) was never a need to meet: it is not counted.
        Metric(
            "demands_collected",
            _("Demands collected"),
            lambda: Demand.objects.exclude(status="cancelled"),
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=demand_records(status__in="open,claimed,fulfilled"),
        ),
        # Of the demands collected on a day, how many are met now: the fulfilment rate of any
        # period (fulfilled ÷ collected, 0–100 %).
        Metric(
            "demands_collected_fulfilled",
            _("Demands collected, fulfilled since"),
            lambda: Demand.objects.filter(status="fulfilled"),
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=demand_records(status__exact="fulfilled"),
        ),
        Metric(
            "demands_fulfilled",
            _("Demands fulfilled"),
            lambda: Demand.objects.filter(status="fulfilled"),
            "node__path",
            "fulfilled_at",
            lambda: Count("id"),
            records=demand_records("fulfilled_at", status__exact="fulfilled"),
        ),
        Metric(
            "wishes_collected",
            _("Micro-wishes collected"),
            lambda: Demand.objects.filter(is_micro_wish=True).exclude(status="cancelled"),
            "node__path",
            "created_at",
            lambda: Count("id"),
            records=demand_records(is_micro_wish__exact=1, status__in="open,claimed,fulfilled"),
        ),
        Metric(
            "wishes_fulfilled",
            _("Micro-wishes fulfilled"),
            lambda: Demand.objects.filter(is_micro_wish=True, status="fulfilled"),
            "node__path",
            "fulfilled_at",
            lambda: Count("id"),
            records=demand_records("fulfilled_at", is_micro_wish__exact=1, status__exact="fulfilled"),
        ),
    )

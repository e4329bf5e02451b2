"""Population figures for the dashboards' context, as of today, registered with grid's rollup engine."""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid.rollup import Metric, register
from residents.selectors import birth_date_bounds

POPULATION_METRICS = ("households", "residents", "elderly", "key_households")


def register_metrics() -> None:
    from residents.models import Household, Resident

    def residents(node, start, end):
        return reverse("admin:residents_resident_changelist") + f"?subtree={node.pk}&status__exact=active"

    register(
        Metric(
            "households",
            _("Households"),
            Household.objects.all,
            "node__path",
            None,
            lambda: Count("id"),
            records=lambda node, start, end: (
                reverse("admin:residents_household_changelist") + f"?subtree={node.pk}"
            ),
        ),
        Metric(
            "residents",
            _("Residents"),
            lambda: Resident.objects.filter(status="active"),
            "household__node__path",
            None,
            lambda: Count("id"),
            records=residents,
        ),
        Metric(
            "elderly",
            _("Residents aged 60+"),
            lambda: Resident.objects.filter(status="active"),
            "household__node__path",
            None,
            lambda: Count("id", filter=birth_date_bounds(60, None, timezone.localdate())),
            records=lambda node, start, end: residents(node, start, end) + "&age_band=60-69",
        ),
        Metric(
            "key_households",
            _("Red and yellow households"),
            Household.objects.all,
            "node__path",
            None,
            lambda: Count("id", filter=Q(colour__in=["red", "yellow"])),
            records=lambda node, start, end: (
                reverse("admin:residents_household_changelist") + f"?subtree={node.pk}&colour__exact=red"
            ),
        ),
    )

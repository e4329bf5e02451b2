"""Changes outside the visits themselves that move households' due dates, marked for the rollup."""

from django.utils import timezone

from grid import rollup
from services.metrics import COVERAGE_METRICS


def colour_marked(sender, instance, created, raw=False, **kwargs) -> None:
    """A new colour sets a new cadence from the day it was set on."""
    if created and not raw:
        rollup.touch_since(*COVERAGE_METRICS, day=timezone.localtime(instance.set_at).date())


def household_registered(sender, instance, created, raw=False, **kwargs) -> None:
    """A household is due a visit from the day it is registered."""
    if created and not raw:
        rollup.touch(*COVERAGE_METRICS, day=timezone.localtime(instance.created_at).date())


def household_removed(sender, instance, **kwargs) -> None:
    rollup.touch_history(*COVERAGE_METRICS)


def cadence_changed(sender, instance, raw=False, **kwargs) -> None:
    """Every due date of the colour moves, back to the first household."""
    if not raw:
        rollup.touch_history(*COVERAGE_METRICS)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from residents.models import ColourMark, Household
    from services.models import VisitCadence

    post_save.connect(colour_marked, sender=ColourMark, dispatch_uid="coverage-colour-marked")
    post_save.connect(household_registered, sender=Household, dispatch_uid="coverage-household-registered")
    post_delete.connect(household_removed, sender=Household, dispatch_uid="coverage-household-removed")
    post_save.connect(cadence_changed, sender=VisitCadence, dispatch_uid="coverage-cadence-saved")
    post_delete.connect(cadence_changed, sender=VisitCadence, dispatch_uid="coverage-cadence-deleted")

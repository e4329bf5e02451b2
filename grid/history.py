"""History rows (django-simple-history) for the writes that go around Model.save().

A model's save() writes its history row itself. The services also change rows with conditional
UPDATEs and bulk operations, which save() never sees; these helpers write the matching rows, so the
history of a resident, household, care tag, ticket or claim misses no change.
"""

from collections.abc import Iterable

from django.db import models
from simple_history.utils import get_history_manager_for_model

from grid.models import User

BATCH = 1000


def record(
    instances: Iterable[models.Model], *, user: User | None = None, reason: str = "", created: bool = False
) -> None:
    """One history row per instance, as it is now (its fields must hold what the database holds).

    Without `user`, the signed-in user of the current request is recorded, as save() does.
    """
    instances = [instance for instance in instances if instance.pk is not None]
    if not instances:
        return
    manager = get_history_manager_for_model(type(instances[0]))
    manager.bulk_history_create(
        instances,
        batch_size=BATCH,
        update=not created,
        default_user=user,
        default_change_reason=reason[:100],
    )


def update(queryset: models.QuerySet, *, user: User | None = None, reason: str = "", **values) -> int:
    """`queryset.update(**values)` with a history row for each row it changed.

    The rows are locked first and read back after the update, so `values` may be expressions and the
    history shows what the rows became. Needs a transaction, as any locking read does.
    """
    manager = queryset.model._default_manager
    pks = list(queryset.select_for_update().values_list("pk", flat=True))
    if not pks:
        return 0
    count = manager.filter(pk__in=pks).update(**values)
    record(manager.filter(pk__in=pks).order_by("pk"), user=user, reason=reason)
    return count

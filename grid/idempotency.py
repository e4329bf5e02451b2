"""Idempotency-Key handling for writes from phones on weak networks and from other systems.

The record and the write it protects commit in one transaction. A concurrent repeat blocks on
the unique index until the first commits, then reads the stored response; a later repeat reads
it straight away. Either way the write happens once.
"""

import re
from collections.abc import Callable

from django.db import IntegrityError, transaction

from grid.models import IdempotencyRecord

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")


def valid_key(key: str | None) -> bool:
    return bool(key) and bool(_KEY.match(key))


def scope_for(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "public"


def run_once(
    *, scope: str, key: str, endpoint: str, action: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """Run `action` (returning status and JSON body) once per (scope, key).

    Returns (status, body, replayed).
    """
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None and existing.status_code is not None:
        return existing.status_code, existing.body, True
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key, endpoint=endpoint[:200])
            status, body = action()
            if status >= 400:
                # A refused request is not remembered: the client may correct it and send again.
                transaction.set_rollback(True)
                return status, body, False
            record.status_code, record.body = status, body
            record.save(update_fields=["status_code", "body"])
            return status, body, False
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None or existing.status_code is None:
            raise
        return existing.status_code, existing.body, True

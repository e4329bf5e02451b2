"""Idempotency-Key handling for writes from phones on weak networks and from other systems.

The record and the write it protects commit in one transaction. A concurrent repeat blocks on
the unique index until the first commits, then reads the stored response; a later repeat reads
it straight away. Either way the write happens once.
"""

import hashlib
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grid.errors import ConflictError
from grid.models import IdempotencyRecord

# Fields of a posted form that differ between two sends of the same request.
VOLATILE_FIELDS = {"csrfmiddlewaretoken", "idempotency_key"}

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,100}$")


def valid_key(key: str | None) -> bool:
    return bool(key) and bool(_KEY.match(key))


def scope_for(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return "public"


def fingerprint(request) -> str:
    """What makes two sends the same request: the method, the path and what was sent (a form's
    fields but its token and key; a JSON body as it came; an upload by its form fields only)."""
    parts = [request.method, request.path]
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith(("multipart/", "application/x-www-form-urlencoded")):
        posted = request.POST
        parts += [
            f"{name}={value}"
            for name in sorted(posted)
            if name not in VOLATILE_FIELDS
            for value in posted.getlist(name)
        ]
    else:
        parts.append(request.body.decode("utf-8", "replace"))
    return "\n".join(parts)


def run_once(
    *,
    scope: str,
    key: str,
    endpoint: str,
    action: Callable[[], tuple[int, dict]],
    request=None,
) -> tuple[int, dict, bool]:
    """Run `action` (returning status and JSON body) once per (scope, key).

    Returns (status, body, replayed). With `request`, a repeat must be the same request: the same
    key sent with another one (a stale page's second form, a client reusing keys) is a conflict,
    never a silent replay of the first.
    """
    if request is not None:
        digest = hashlib.sha256(fingerprint(request).encode()).hexdigest()[:16]
        endpoint = f"{endpoint[:180]}#{digest}"
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is not None and existing.status_code is not None:
        return _replay(existing, endpoint)
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
        return _replay(existing, endpoint)


def _replay(existing: IdempotencyRecord, endpoint: str) -> tuple[int, dict, bool]:
    if existing.endpoint != endpoint[:200]:
        raise ConflictError(
            _("This request repeats the key of a different one; reload the page and try again."),
            code="idempotency_key_reused",
        )
    return existing.status_code, existing.body, True

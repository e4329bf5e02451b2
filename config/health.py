"""/healthz for operators and load balancers: 200 when PostgreSQL (the database) and Redis answer."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure to answer means "down", whatever the driver raises
        return type(error).__name__
    return None


def _check_redis() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
    except Exception as error:  # as above: a health check reports, never raises
        return type(error).__name__
    return None


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _check_database()}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis()
    failing = sorted(name for name, error in checks.items() if error)
    body = {
        "status": "ok" if not failing else "unavailable",
        "checks": {name: ("ok" if error is None else f"down: {error}") for name, error in checks.items()},
    }
    if not settings.REDIS_URL:
        body["checks"]["redis"] = "not configured (tasks run in-process)"
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)

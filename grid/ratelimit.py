"""Fixed-window rate limits kept in the cache (Redis in production)."""

import ipaddress

from django.conf import settings
from django.core.cache import cache

UNKNOWN_ADDRESS = "0.0.0.0"  # noqa: S104 - a placeholder value, never bound to  # nosec B104


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address, for rate limits, login lockouts and logs.

    X-Forwarded-For is only believed as far as DJANGO_TRUSTED_PROXIES reverse proxies wrote it: each
    proxy appends the address it saw, so with N proxies the client is the N-th entry from the end.
    Entries before that are whatever the client sent and could be forged to dodge a limit.
    """
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= proxies and (address := _address(hops[-proxies])):
            return address
    return _address(request.META.get("REMOTE_ADDR", "")) or UNKNOWN_ADDRESS


def hit(bucket: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit; False once `limit` hits fell in the current window."""
    key = f"ratelimit:{bucket}"
    added = cache.add(key, 1, timeout=window_seconds)
    if added:
        return True
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window_seconds)
        return True
    return count <= limit

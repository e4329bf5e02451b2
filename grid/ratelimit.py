"""Fixed-window rate limits kept in the cache (Redis in production)."""

from django.core.cache import cache


def client_ip(request) -> str:
    # Behind the reverse proxy the first X-Forwarded-For hop is the client; see README.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return (
        forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR", "")
    ) or "unknown"


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

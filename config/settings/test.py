"""The test suite: real PostgreSQL and Redis, as in production; eager Celery for unit tests only."""

import tempfile
from pathlib import Path

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = False
SECRET_KEY = "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # nosec B105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/governance")}
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_governance")}

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
    }
}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Unit tests run tasks in-process; integration tests start a real worker and send through Redis.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)

# Tests that exercise the incremental rollup turn it on explicitly.
METRICS_ROLLUP_ON_COMMIT = False

# Uploads made by tests (photos, ledgers) go to a scratch folder, not the checkout's media/.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "governance-test-media"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

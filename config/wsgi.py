import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

# Every view module loaded now rather than on a worker's first request, and everything startup
# built (modules, URL patterns, settings, translations) moved out of the garbage collector's
# reach: a full collection then scans one request's objects, not the whole framework, which
# otherwise added 60 ms to about one dashboard request in ten.
get_resolver().url_patterns  # noqa: B018
gc.freeze()

"""Text that is stored, not shown: written in the deployment's language, whatever the language of
the request or process (Celery workers and management commands run without one)."""

from django.conf import settings
from django.utils import translation


def recorded_text(message) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(message)

import axes.apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Grid and organization")
    default_auto_field = "django.db.models.BigAutoField"


class AxesConfig(axes.apps.AppConfig):
    """django-axes (login throttling) under a name in the UI's language; its other strings are
    translated in the project's catalog (`grid.axes_labels`), as it ships no Chinese one."""

    verbose_name = _("Login throttling")

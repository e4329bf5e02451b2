from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("Services and visits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from grid import mobile
        from grid.demo import register_builder
        from services import permissions
        from services.demo import build

        permissions.register()
        from services.metrics import register_metrics

        register_metrics()
        from services import signals

        signals.connect()
        register_builder(build)
        mobile.register(mobile.MenuEntry("mobile-visits", _("Visits due"), "services.add_visit", 12))
        mobile.register(
            mobile.MenuEntry("mobile-events", _("Events and sign-in"), "services.view_serviceevent", 25)
        )
        mobile.register(mobile.MenuEntry("mobile-points", _("My points"), "", 40))

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResidentsConfig(AppConfig):
    name = "residents"
    verbose_name = _("Residents")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from grid import mobile
        from residents import permissions

        permissions.register()
        from residents.metrics import register_metrics

        register_metrics()
        from grid.demo import register_builder
        from residents.demo import build as build_residents

        register_builder(build_residents)
        mobile.register(
            mobile.MenuEntry(
                "mobile-resident-search", _("Find a resident or household"), "residents.view_resident", 20
            )
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemandsConfig(AppConfig):
    name = "demands"
    verbose_name = _("Reports and demands")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from demands import permissions
        from demands.demo import build as build_demo
        from grid import mobile
        from grid.demo import register_builder

        permissions.register()
        from grid.signals import assignment_ended, node_archiving

        assignment_ended.connect(_hand_over_tickets, dispatch_uid="demands-hand-over-tickets")
        node_archiving.connect(_refuse_with_open_tickets, dispatch_uid="demands-open-tickets")
        from demands.metrics import register_metrics

        register_metrics()
        register_builder(build_demo)
        from demands.list_demo import build as build_lists

        register_builder(build_lists)
        mobile.register(mobile.MenuEntry("mobile-queue", _("My tickets"), "demands.view_ticket", 10))
        mobile.register(mobile.MenuEntry("mobile-report", _("Report what I found"), "demands.add_ticket", 15))
        mobile.register(
            mobile.MenuEntry("mobile-wishes", _("Micro-wishes to claim"), "demands.add_claim", 30)
        )


def _hand_over_tickets(sender, assignment, **kwargs):
    """A post that ends today hands its open tickets to the next handler at once."""
    from demands import services

    services.hand_over_orphaned(user=assignment.user)


def _refuse_with_open_tickets(sender, node, **kwargs):
    """A place with open tickets is not archived: they would stay with people who lose their
    posts there, and its reporters would wait for nothing."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import ngettext

    from demands.choices import FINAL_STATUSES
    from demands.models import Ticket

    count = Ticket.objects.filter(node__path__startswith=node.path).exclude(status__in=FINAL_STATUSES).count()
    if count:
        raise ValidationError(
            ngettext(
                "%(count)d ticket placed here is still open; finish it before archiving %(node)s.",
                "%(count)d tickets placed here are still open; finish them before archiving %(node)s.",
                count,
            )
            % {"count": count, "node": node.name}
        )

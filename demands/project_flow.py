"""Projects: planned → in progress → completed, or cancelled before completion."""

from django.utils.translation import gettext_lazy as _

from demands.choices import ProjectStatus as S
from demands.machine import Machine, Move

PROJECT = Machine(
    S,
    [
        Move("start", _("start"), frozenset({S.PLANNED}), S.IN_PROGRESS),
        Move("complete", _("complete"), frozenset({S.IN_PROGRESS}), S.COMPLETED),
        Move("cancel", _("cancel"), frozenset({S.PLANNED, S.IN_PROGRESS}), S.CANCELLED),
    ],
)

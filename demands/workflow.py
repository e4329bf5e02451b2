"""The ticket state machine, as data: which action may move a ticket from which statuses to which.

发现—上报—派单—接单—办理—反馈—评价. A transition is one service call (demands.services), which
moves the row with a conditional UPDATE, so two people acting at once cannot both succeed.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from demands.choices import TicketStatus as S
from grid.errors import ConflictError


@dataclass(frozen=True)
class Transition:
    action: str
    label: object
    sources: frozenset
    target: str


_OPEN = {S.SUBMITTED, S.ASSIGNED, S.RETURNED, S.ESCALATED, S.REOPENED}

TRANSITIONS = {
    t.action: t
    for t in [
        Transition("assign", gettext_lazy("dispatch"), frozenset(_OPEN), S.ASSIGNED),
        Transition("accept", gettext_lazy("accept"), frozenset({S.ASSIGNED}), S.ACCEPTED),
        Transition("resolve", gettext_lazy("resolve"), frozenset({S.ACCEPTED}), S.RESOLVED),
        Transition("return", gettext_lazy("return"), frozenset({S.ASSIGNED, S.ACCEPTED}), S.RETURNED),
        Transition("escalate", gettext_lazy("escalate"), frozenset(_OPEN | {S.ACCEPTED}), S.ESCALATED),
        Transition("close", gettext_lazy("close"), frozenset({S.RESOLVED}), S.CLOSED),
        Transition("reopen", gettext_lazy("reopen"), frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
        Transition("reject", gettext_lazy("reject"), frozenset(_OPEN), S.REJECTED),
        Transition("duplicate", gettext_lazy("mark as duplicate"), frozenset(_OPEN), S.DUPLICATE),
    ]
}


def transition(action: str) -> Transition:
    return TRANSITIONS[action]


def allowed_actions(status: str) -> list[str]:
    return [action for action, t in TRANSITIONS.items() if status in t.sources]


def refuse(action: str, status: str):
    """The clear message for an illegal move (HTTP 409)."""
    raise ConflictError(
        _("A ticket that is %(status)s cannot be given the action “%(action)s”.")
        % {"status": S(status).label, "action": TRANSITIONS[action].label},
        code="illegal_transition",
    )

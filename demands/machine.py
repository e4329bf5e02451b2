"""A small state-machine helper: transitions as data, one clear refusal for an illegal move."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from grid.errors import ConflictError


@dataclass(frozen=True)
class Move:
    action: str
    label: object
    sources: frozenset
    target: str


class Machine:
    def __init__(self, statuses, moves: list[Move]):
        self.statuses = statuses
        self.moves = {move.action: move for move in moves}

    def move(self, action: str) -> Move:
        return self.moves[action]

    def allowed(self, status: str) -> list[str]:
        return [action for action, move in self.moves.items() if status in move.sources]

    def check(self, action: str, status: str) -> Move:
        move = self.moves[action]
        if status not in move.sources:
            raise ConflictError(
                _("Something that is %(status)s cannot be given the action “%(action)s”.")
                % {"status": self.statuses(status).label, "action": move.label},
                code="illegal_transition",
            )
        return move

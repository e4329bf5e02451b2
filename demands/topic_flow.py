"""Deliberation topics: 议事 (raised, consulting) — 表决 (voting) — decided — 实施 (implementing) — done."""

from django.utils.translation import gettext_lazy as _

from demands.choices import TopicStatus as S
from demands.machine import Machine, Move

TOPIC = Machine(
    S,
    [
        Move("consult", _("hold a consultation"), frozenset({S.RAISED, S.CONSULTING}), S.CONSULTING),
        Move("open_vote", _("open the vote"), frozenset({S.CONSULTING}), S.VOTING),
        Move("decide", _("decide"), frozenset({S.VOTING}), S.DECIDED),
        Move("implement", _("implement"), frozenset({S.DECIDED}), S.IMPLEMENTING),
        Move("finish", _("finish"), frozenset({S.IMPLEMENTING, S.DECIDED}), S.DONE),
        Move("drop", _("drop"), frozenset({S.RAISED, S.CONSULTING, S.VOTING}), S.DROPPED),
    ],
)

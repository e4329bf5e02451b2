"""Claims: claimed → in progress → fulfilled, or withdrawn before fulfilment."""

from django.utils.translation import gettext_lazy as _

from demands.choices import ClaimStatus as S
from demands.machine import Machine, Move

CLAIM = Machine(
    S,
    [
        Move("start", _("start"), frozenset({S.CLAIMED}), S.IN_PROGRESS),
        Move("fulfil", _("fulfil"), frozenset({S.CLAIMED, S.IN_PROGRESS}), S.FULFILLED),
        Move("withdraw", _("withdraw"), frozenset({S.CLAIMED, S.IN_PROGRESS}), S.WITHDRAWN),
    ],
)

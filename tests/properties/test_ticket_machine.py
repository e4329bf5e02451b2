"""The ticket state machine, driven through the services by random sequences of actions: a
refused action changes nothing; an accepted one lands where the machine says; the timestamps
always agree with the status."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import event, given, settings
from hypothesis import strategies as st

from demands import services
from demands.choices import TicketStatus as S
from demands.models import Ticket
from demands.workflow import TRANSITIONS
from grid.errors import ConflictError

pytestmark = pytest.mark.django_db

ACTIONS = ["assign", "accept", "resolve", "return", "escalate", "close", "reopen", "reject", "duplicate"]
# The way forward drawn more often, so that sequences reach resolved, closed and rated tickets.
WEIGHTED = [*ACTIONS, "rate", "accept", "accept", "resolve", "resolve", "resolve", "close", "rate", "rate"]
steps = st.lists(st.tuples(st.sampled_from(WEIGHTED), st.integers(min_value=1, max_value=5)), max_size=12)
CLOSED_LIKE = {S.CLOSED, S.REJECTED, S.DUPLICATE}
TAKEN = {S.ACCEPTED, S.RESOLVED, S.CLOSED}


def _snapshot(ticket):
    row = Ticket.objects.filter(pk=ticket.pk).values().get()
    row.pop("updated_at")
    return row, ticket.events.count()


def _act(loop, ticket, action, rating, original):
    worker = ticket.assignee or loop.worker_a
    calls = {
        "assign": lambda: services.ticket_assign(ticket=ticket, actor=loop.staff, assignee=loop.worker_a),
        "accept": lambda: services.ticket_accept(ticket=ticket, actor=worker),
        "resolve": lambda: services.ticket_resolve(ticket=ticket, actor=worker, note="已处理"),
        "return": lambda: services.ticket_return(ticket=ticket, actor=worker, note="不属于本网格"),
        "escalate": lambda: services.ticket_escalate(ticket=ticket, actor=worker, note="需社区协调"),
        "close": lambda: services.ticket_close(ticket=ticket, actor=loop.staff),
        "reopen": lambda: services.ticket_reopen(ticket=ticket, actor=loop.staff, note="还是漏水"),
        "reject": lambda: services.ticket_reject(ticket=ticket, actor=loop.staff, note="不属实"),
        "duplicate": lambda: services.ticket_mark_duplicate(
            ticket=ticket, actor=loop.staff, original=original
        ),
        "rate": lambda: services.ticket_rate(ticket=ticket, rating=rating),
    }
    return calls[action]()


@settings(max_examples=120)
@given(steps)
def test_any_sequence_of_actions_keeps_the_ticket_consistent(loop, sequence):
    original = loop.ticket()
    ticket = loop.ticket()
    for action, rating in sequence:
        ticket.refresh_from_db()
        before, events = _snapshot(ticket)
        try:
            moved = _act(loop, ticket, action, rating, original)
        except (ConflictError, ValidationError):
            event(f"{action} refused")
            # refused: not a field, not an event changed
            assert _snapshot(ticket) == (before, events), action
            if action in TRANSITIONS and before["status"] in TRANSITIONS[action].sources:
                # only a rule other than the status can refuse a move the machine allows
                assert action in {"accept", "resolve", "escalate", "assign"}, (action, before["status"])
            continue
        event(f"{action} done")
        moved.refresh_from_db()
        assert ticket.events.count() > events, action
        if action in TRANSITIONS:
            assert before["status"] in TRANSITIONS[action].sources, (action, before["status"])
            target = TRANSITIONS[action].target
            # an escalated or reopened ticket is dispatched again at once when someone is there
            assert moved.status == target or (
                target in {S.ESCALATED, S.REOPENED} and moved.status == S.ASSIGNED
            ), (action, moved.status)
        # the timestamps always agree with the status
        assert (moved.closed_at is not None) == (moved.status in CLOSED_LIKE), moved.status
        assert (moved.accepted_at is not None) == (moved.status in TAKEN), moved.status
        assert (moved.resolved_at is not None) >= (moved.status in {S.RESOLVED, S.CLOSED}), moved.status
        assert (moved.rating is None) == (moved.rated_at is None)
        assert moved.status in S.values

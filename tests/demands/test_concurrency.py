"""Two people at once, on two database connections: exactly one wins."""

import threading

import pytest
from django.db import close_old_connections, connection

from demands import services
from demands.choices import TicketStatus
from demands.models import Ticket, TicketEvent
from grid.errors import ConflictError
from grid.idempotency import run_once

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls):
    """Run the calls at the same moment in separate threads (separate connections)."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = ("error", error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_workers_accepting_the_same_ticket_one_wins_the_other_gets_a_conflict(loop):
    ticket = loop.ticket()
    for _attempt in range(3):
        outcomes = _race(
            lambda: services.ticket_accept(ticket=Ticket.objects.get(pk=ticket.pk), actor=loop.worker_a),
            lambda: services.ticket_accept(ticket=Ticket.objects.get(pk=ticket.pk), actor=loop.worker_b),
        )
        kinds = sorted(kind for kind, _value in outcomes)
        assert kinds == ["error", "ok"], outcomes
        error = next(value for kind, value in outcomes if kind == "error")
        assert isinstance(error, ConflictError)
        winner = next(value for kind, value in outcomes if kind == "ok")
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert (fresh.status, fresh.assignee) == (TicketStatus.ACCEPTED, winner.assignee)
        assert TicketEvent.objects.filter(ticket=ticket, action="accept").count() == 1
        # set up the next round
        Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.ASSIGNED)
        TicketEvent.objects.filter(ticket=ticket, action="accept").delete()


def test_the_same_idempotency_key_sent_twice_at_once_creates_one_ticket(loop):
    before = Ticket.objects.count()

    def create():
        def action():
            created = loop.ticket()
            return 201, {"ticket": created.pk}

        return run_once(scope="public", key="race-key-0001", endpoint="/r/x/", action=action)

    outcomes = _race(create, create)
    assert [kind for kind, _value in outcomes] == ["ok", "ok"], outcomes
    (status_1, body_1, replayed_1), (status_2, body_2, replayed_2) = (value for _kind, value in outcomes)
    assert body_1 == body_2 and status_1 == status_2 == 201
    assert sorted([replayed_1, replayed_2]) == [False, True]
    assert Ticket.objects.count() == before + 1

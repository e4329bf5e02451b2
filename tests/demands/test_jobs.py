import datetime

import pytest
from django.utils import timezone

from demands import services
from demands.choices import Level, TicketStatus
from demands.models import Ticket

pytestmark = pytest.mark.django_db


def _age(ticket, **deltas):
    Ticket.objects.filter(pk=ticket.pk).update(**deltas)
    ticket.refresh_from_db()
    return ticket


def test_overdue_tickets_are_flagged_and_escalated_one_level_once(loop):
    late = _age(loop.ticket(), response_due=timezone.now() - datetime.timedelta(minutes=1))
    on_time = loop.ticket()
    assert services.escalate_overdue() == 1
    late.refresh_from_db()
    assert (late.is_overdue, late.level, late.assignee, late.status) == (
        True,
        Level.COMMUNITY,
        loop.staff,
        TicketStatus.ASSIGNED,
    )
    assert late.response_due > timezone.now()  # new deadline at the new level
    assert not Ticket.objects.get(pk=on_time.pk).is_overdue
    assert services.escalate_overdue() == 0  # running again changes nothing
    assert late.events.filter(action="escalate").count() == 1


def test_accepted_tickets_past_the_resolution_deadline_escalate(loop):
    ticket = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    _age(ticket, resolution_due=timezone.now() - datetime.timedelta(hours=1))
    services.escalate_overdue()
    ticket.refresh_from_db()
    assert (ticket.level, ticket.is_overdue) == (Level.COMMUNITY, True)


def test_at_the_street_an_overdue_ticket_is_only_flagged(loop):
    ticket = _age(
        loop.ticket(), level=Level.STREET, response_due=timezone.now() - datetime.timedelta(hours=1)
    )
    assert services.escalate_overdue() == 1
    assert services.escalate_overdue() == 0
    ticket.refresh_from_db()
    assert (ticket.level, ticket.is_overdue) == (Level.STREET, True)


def test_resolved_tickets_close_after_seven_days_without_a_rating(loop):
    old = services.ticket_resolve(
        ticket=services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a),
        actor=loop.worker_a,
        note="已处理",
    )
    recent = services.ticket_resolve(
        ticket=services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a),
        actor=loop.worker_a,
        note="已处理",
    )
    _age(old, resolved_at=timezone.now() - datetime.timedelta(days=7, minutes=1))
    _age(recent, resolved_at=timezone.now() - datetime.timedelta(days=6))
    assert services.auto_close_resolved() == 1
    assert Ticket.objects.get(pk=old.pk).status == TicketStatus.CLOSED
    assert Ticket.objects.get(pk=recent.pk).status == TicketStatus.RESOLVED
    assert services.auto_close_resolved() == 0


def test_run_periodic_jobs_runs_the_whole_beat_schedule_once(loop):
    from io import StringIO

    from django.core.management import call_command

    late = _age(loop.ticket(), response_due=timezone.now() - datetime.timedelta(minutes=1))
    out = StringIO()
    call_command("run_periodic_jobs", stdout=out)
    assert "tickets-escalate-overdue: 1" in out.getvalue()
    assert "worker-heartbeat" in out.getvalue()
    late.refresh_from_db()
    assert late.level == Level.COMMUNITY

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


def test_a_step_taken_after_its_deadline_flags_the_ticket_without_waiting_for_the_job(loop):
    """Accepting after the response deadline, or resolving after the resolution deadline, is late
    whether or not the periodic job ran in between; steps within the deadlines flag nothing."""
    past = timezone.now() - datetime.timedelta(minutes=1)
    prompt = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    assert not prompt.is_overdue
    prompt = services.ticket_resolve(ticket=prompt, actor=loop.worker_a, note="已清理")
    assert not prompt.is_overdue

    slow_to_take = _age(loop.ticket(), response_due=past)
    assert services.ticket_accept(ticket=slow_to_take, actor=loop.worker_a).is_overdue

    slow_to_fix = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    _age(slow_to_fix, resolution_due=past)
    resolved = services.ticket_resolve(ticket=slow_to_fix, actor=loop.worker_a, note="已清理")
    assert resolved.is_overdue and resolved.status == TicketStatus.RESOLVED
    for ticket in (prompt, resolved):
        services.ticket_close(ticket=ticket, actor=loop.secretary)
    assert list(Ticket.objects.filter(status="closed").values_list("pk", "is_overdue").order_by("pk")) == [
        (prompt.pk, False),
        (resolved.pk, True),
    ]


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


def test_the_upgrade_flags_tickets_stepped_late_before_and_marks_their_closing_days(loop):
    import importlib

    from django.apps import apps

    from grid.models import DirtyCell

    upgrade = importlib.import_module("demands.migrations.0008_flag_late_steps")
    done = []
    for _ in range(2):
        ticket = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
        ticket = services.ticket_resolve(ticket=ticket, actor=loop.worker_a, note="已清理")
        done.append(services.ticket_close(ticket=ticket, actor=loop.secretary))
    slipped, kept = done
    # Resolved after its deadline before the step flagged it, and the job never saw it.
    _age(slipped, resolution_due=slipped.resolved_at - datetime.timedelta(minutes=5), is_overdue=False)
    DirtyCell.objects.all().delete()
    upgrade.flag_late(apps, None)
    assert dict(Ticket.objects.filter(pk__in=[slipped.pk, kept.pk]).values_list("pk", "is_overdue")) == {
        slipped.pk: True,
        kept.pk: False,
    }
    closed_day = timezone.localtime(slipped.closed_at).date()
    assert list(DirtyCell.objects.values_list("metric", "day")) == [("tickets_on_time", closed_day)]


def test_ending_a_post_hands_its_open_tickets_to_the_next_handler(loop):
    from grid import services as grid_services
    from grid.models import Assignment

    taken = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    waiting = loop.ticket()
    assert waiting.assignee == loop.worker_a  # the A post gets new tickets
    elsewhere = loop.ticket(node=loop.building_b)  # grid 2's, not worker_a's
    post = Assignment.objects.current().get(user=loop.worker_a, node=loop.demo.grid_a)
    grid_services.assignment_end(assignment=post)
    for ticket in (taken, waiting):
        ticket.refresh_from_db()
        assert (ticket.status, ticket.assignee, ticket.accepted_at) == (
            TicketStatus.ASSIGNED,
            loop.worker_b,
            None,
        )
        assert list(ticket.events.values_list("action", flat=True))[-2:] == ["return", "assign"]
    assert Ticket.objects.get(pk=elsewhere.pk).assignee != loop.worker_a
    assert services.hand_over_orphaned() == 0  # nothing left: running again changes nothing


def test_the_sweep_hands_over_the_tickets_of_a_disabled_account(loop):
    ticket = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    kept = loop.ticket(node=loop.building_b)  # with grid 2's A post
    type(loop.worker_a).objects.filter(pk=loop.worker_a.pk).update(is_active=False)
    assert list(services.orphaned_tickets()) == [ticket]
    assert services.hand_over_orphaned() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED and ticket.assignee == loop.worker_b
    assert Ticket.objects.get(pk=kept.pk).assignee == kept.assignee


def test_only_a_post_that_handles_tickets_keeps_them_and_an_archived_place_is_left_to_the_office(loop):
    from django.utils import timezone

    from grid import services as grid_services
    from grid.choices import Role
    from grid.models import Assignment, GridNode

    # Registered as a party member (双报到), the worker is also a volunteer of the community.
    Assignment.objects.create(user=loop.worker_a, node=loop.demo.beihai, role=Role.VOLUNTEER)
    taken = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    post = Assignment.objects.current().get(user=loop.worker_a, node=loop.demo.grid_a, role="grid_worker")
    grid_services.assignment_end(assignment=post)
    taken.refresh_from_db()
    assert (taken.assignee, taken.status) == (loop.worker_b, TicketStatus.ASSIGNED)

    stuck = services.ticket_accept(ticket=loop.ticket(node=loop.building_b), actor=loop.worker_b)
    GridNode.objects.filter(path__startswith=loop.demo.grid_b.path).update(archived_at=timezone.now())
    for _ in range(2):  # no next handler there: the sweep leaves it, and never churns it
        assert services.hand_over_orphaned() == 0
    stuck.refresh_from_db()
    assert stuck.status == TicketStatus.ACCEPTED and stuck.accepted_at is not None


def test_a_report_on_a_place_archived_since_the_form_was_read_is_refused(loop):
    from django.core.exceptions import ValidationError

    from grid import services as grid_services
    from grid.models import GridNode

    building = GridNode.objects.get(pk=loop.building_a.pk)  # as the report's request read it
    grid_services.node_archive(node=loop.demo.grid_a)
    with pytest.raises(ValidationError) as refused:
        loop.ticket(node=building)
    assert "node" in refused.value.message_dict
    assert (
        not Ticket.objects.filter(node__path__startswith=loop.demo.grid_a.path)
        .exclude(status__in=["closed", "rejected", "duplicate"])
        .exists()
    )

"""Every legal and every illegal transition of the state machine, from its data."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from demands import services, workflow
from demands.choices import Level, TicketStatus
from demands.models import Ticket, TicketEvent
from grid.errors import ConflictError
from grid.models import Assignment

pytestmark = pytest.mark.django_db


def _put(ticket, status, **extra):
    """Set a ticket into a status for the test (as if earlier steps had happened)."""
    values = {"status": status, **extra}
    if status == TicketStatus.DUPLICATE:
        values.setdefault("duplicate_of", Ticket.objects.exclude(pk=ticket.pk).first())
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    ticket.refresh_from_db()
    return ticket


def _do(loop, action, ticket):
    actor = loop.worker_a
    calls = {
        "assign": lambda: services.ticket_assign(ticket=ticket, actor=loop.secretary, assignee=loop.worker_b),
        "accept": lambda: services.ticket_accept(ticket=ticket, actor=actor),
        "resolve": lambda: services.ticket_resolve(ticket=ticket, actor=actor, note="已清理"),
        "return": lambda: services.ticket_return(ticket=ticket, actor=actor, note="不属于本网格"),
        "escalate": lambda: services.ticket_escalate(ticket=ticket, actor=actor, note="需社区协调"),
        "close": lambda: services.ticket_close(ticket=ticket, actor=loop.secretary),
        "reopen": lambda: services.ticket_reopen(ticket=ticket, actor=loop.secretary, note="仍未解决"),
        "reject": lambda: services.ticket_reject(ticket=ticket, actor=loop.secretary, note="非本辖区事项"),
        "duplicate": lambda: services.ticket_mark_duplicate(
            ticket=ticket, actor=loop.secretary, original=loop.original
        ),
    }
    return calls[action]()


LEGAL = [(action, source) for action, t in workflow.TRANSITIONS.items() for source in sorted(t.sources)]
ILLEGAL = [
    (action, status)
    for action, t in workflow.TRANSITIONS.items()
    for status in TicketStatus.values
    if status not in t.sources
]


@pytest.mark.parametrize(("action", "source"), LEGAL)
def test_every_legal_transition_moves_the_ticket_and_records_an_event(loop, action, source):
    loop.original = loop.ticket()
    ticket = _put(loop.ticket(), source, assignee=loop.worker_a)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    result = _do(loop, action, ticket)
    step = workflow.TRANSITIONS[action]
    event = TicketEvent.objects.filter(ticket=ticket, action=action).latest("id")
    assert (event.from_status, event.to_status) == (source, step.target)
    assert TicketEvent.objects.filter(ticket=ticket).count() > events_before
    if action in ("escalate", "reopen"):
        # escalation and reopening dispatch again straight away
        assert result.status in (TicketStatus.ASSIGNED, step.target)
    else:
        assert result.status == step.target


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_every_illegal_transition_is_refused_and_changes_nothing(loop, action, status):
    loop.original = loop.ticket()
    ticket = _put(loop.ticket(), status, assignee=loop.worker_a)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    with pytest.raises(ConflictError) as error:
        _do(loop, action, ticket)
    assert error.value.code in ("illegal_transition", "top_level", "not_assignee")
    ticket.refresh_from_db()
    assert ticket.status == status
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_a_new_report_goes_to_the_grids_a_post(loop):
    ticket = loop.ticket()
    assert (ticket.status, ticket.assignee, ticket.level) == (
        TicketStatus.ASSIGNED,
        loop.worker_a,
        Level.GRID,
    )
    assert list(ticket.events.values_list("action", flat=True)) == ["submit", "assign"]
    assert ticket.response_due - ticket.created_at == datetime.timedelta(hours=loop.category.response_hours)


def test_dispatch_falls_back_from_the_a_post_to_the_b_post_part_timer_and_grid_chief(loop):
    today = timezone.localdate()
    Assignment.objects.filter(user=loop.worker_a).update(away_until=today + datetime.timedelta(days=3))
    assert loop.ticket().assignee == loop.worker_b
    Assignment.objects.filter(user=loop.worker_b).update(away_until=today)
    part_timer = loop.demo.user("bhxc_g1_parttime")
    assert loop.ticket().assignee == part_timer
    Assignment.objects.filter(user=part_timer).update(away_until=today)
    assert loop.ticket().assignee == loop.chief
    Assignment.objects.filter(user=loop.worker_a).update(away_until=today - datetime.timedelta(days=1))
    assert loop.ticket().assignee == loop.worker_a


def test_escalation_hands_the_ticket_to_the_community_then_the_street(loop):
    ticket = loop.ticket()
    ticket = services.ticket_escalate(ticket=ticket, actor=loop.worker_a, note="需要社区协调")
    assert (ticket.level, ticket.status, ticket.assignee) == (
        Level.COMMUNITY,
        TicketStatus.ASSIGNED,
        loop.staff,
    )
    ticket = services.ticket_escalate(ticket=ticket, actor=loop.staff, note="需要街道协调")
    assert (ticket.level, ticket.assignee) == (Level.STREET, loop.demo.user("wys_staff"))
    with pytest.raises(ConflictError):
        services.ticket_escalate(ticket=ticket, actor=loop.staff, note="再上报")


def test_resolve_needs_a_note_and_the_person_who_accepted(loop):
    ticket = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    with pytest.raises(ValidationError):
        services.ticket_resolve(ticket=ticket, actor=loop.worker_a, note=" ")
    with pytest.raises(ConflictError):
        services.ticket_resolve(ticket=ticket, actor=loop.worker_b, note="已处理")
    with pytest.raises(ValidationError):
        services.ticket_return(ticket=ticket, actor=loop.worker_a, note="")
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.ACCEPTED


def test_rating_closes_and_an_unsatisfied_rating_reopens_and_redispatches(loop):
    happy = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    happy = services.ticket_resolve(ticket=happy, actor=loop.worker_a, note="已清理")
    happy = services.ticket_rate(ticket=happy, rating=5, comment="很及时")
    assert (happy.status, happy.rating, happy.closed_at is not None) == (TicketStatus.CLOSED, 5, True)
    with pytest.raises(ConflictError):
        services.ticket_rate(ticket=happy, rating=4)
    unhappy = services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a)
    unhappy = services.ticket_resolve(ticket=unhappy, actor=loop.worker_a, note="已清理")
    unhappy = services.ticket_rate(ticket=unhappy, rating=2, comment="没有清理干净")
    assert (unhappy.status, unhappy.assignee, unhappy.rating) == (TicketStatus.ASSIGNED, loop.worker_a, 2)
    assert list(unhappy.events.values_list("action", flat=True))[-2:] == ["reopen", "assign"]
    with pytest.raises(ConflictError):  # nothing to rate until it is resolved again
        services.ticket_rate(ticket=unhappy, rating=3)
    redone = services.ticket_accept(ticket=unhappy, actor=loop.worker_a)
    redone = services.ticket_resolve(ticket=redone, actor=loop.worker_a, note="重新清理")
    assert services.may_rate(redone)
    redone = services.ticket_rate(ticket=redone, rating=5, comment="这次干净了")
    assert (redone.status, redone.rating) == (TicketStatus.CLOSED, 5)
    assert not services.may_rate(redone)
    notes = list(redone.events.filter(action__in=["reopen", "close"]).values_list("note", flat=True))
    assert "2/5" in notes[0] and "5/5" in notes[-1]  # the first verdict stays in the history


def test_duplicate_links_the_original(loop):
    original, copy = loop.ticket(), loop.ticket()
    copy = services.ticket_mark_duplicate(ticket=copy, actor=loop.secretary, original=original)
    assert (copy.status, copy.duplicate_of) == (TicketStatus.DUPLICATE, original)
    with pytest.raises(ValidationError):
        services.ticket_mark_duplicate(ticket=loop.ticket(), actor=loop.secretary, original=copy)


def test_bad_reports_are_refused_and_write_nothing(loop):
    before = Ticket.objects.count()
    with pytest.raises(ValidationError) as error:
        loop.ticket(description="  ", reporter_phone="123")
    assert {"description", "reporter_phone"} <= set(error.value.message_dict)
    assert Ticket.objects.count() == before

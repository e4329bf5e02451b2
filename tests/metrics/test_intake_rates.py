"""Closure and fulfilment rates are shares of a period's intake: of the tickets received (demands
collected) in the period, those closed (met) by now. They equal direct counts, never exceed
100 %, and move on the intake day when an old ticket closes or reopens."""

import datetime

import pytest
from django.utils import timezone

from demands import lists, services
from demands.models import Demand, Ticket
from grid import rollup
from grid.models import DirtyCell, MetricValue
from tests.demands.test_lists import Lists

pytestmark = pytest.mark.django_db


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


def _months():
    this = timezone.localdate().replace(day=1)
    last = (this - datetime.timedelta(days=1)).replace(day=1)
    return last, this


def _headline(client, node, month):
    page = client.get(f"/dashboard/{node.pk}/", {"period": "month", "start": month.isoformat()})
    return {row["code"]: row for row in page.context["data"]["headline"]}


def _closed(loop, ticket):
    ticket = services.ticket_accept(ticket=ticket, actor=ticket.assignee)
    ticket = services.ticket_resolve(ticket=ticket, actor=ticket.assignee, note="已处理")
    return services.ticket_close(ticket=ticket, actor=loop.secretary)


def test_the_closure_rate_is_the_closed_share_of_the_periods_tickets(loop, client, settings):
    last, this = _months()
    old = [loop.ticket() for _ in range(3)]
    new = loop.ticket()
    for ticket in old:
        Ticket.objects.filter(pk=ticket.pk).update(created_at=_at(last + datetime.timedelta(days=3)))
    Ticket.objects.filter(pk=new.pk).update(created_at=_at(this))
    for ticket in old[:2]:  # last month's tickets, closed this month
        _closed(loop, Ticket.objects.get(pk=ticket.pk))
    rollup.rebuild()
    client.force_login(loop.secretary)
    street = loop.demo.beihai
    now, before = _headline(client, street, this), _headline(client, street, last)
    # This month: 2 closings against 1 ticket received would read 200 %; of its 1 ticket, none closed.
    assert now["closed"]["value"] == 2 and now["closure_rate"]["value"] == 0
    assert before["received"]["value"] == 3 and before["closure_rate"]["value"] == round(2 / 3 * 100, 1)
    listed = client.get(before["closure_rate"]["records"])
    assert listed.context["cl"].result_count == 2

    # Reopening an old ticket marks the day it was received, and the rate there drops back.
    settings.METRICS_ROLLUP_ON_COMMIT = True
    DirtyCell.objects.all().delete()
    services.ticket_reopen(ticket=Ticket.objects.get(pk=old[0].pk), actor=loop.secretary, note="还没修好")
    received_day = last + datetime.timedelta(days=3)
    assert ("tickets_received_closed", received_day) in set(DirtyCell.objects.values_list("metric", "day"))
    rollup.rollup_dirty_cells()
    assert _headline(client, street, last)["closure_rate"]["value"] == round(1 / 3 * 100, 1)
    cell = MetricValue.objects.get(
        node=street, metric="tickets_received_closed", period_kind="month", period_start=last, dimension=""
    )
    assert cell.value == 1


def test_the_fulfilment_rate_is_the_met_share_of_the_periods_demands(demo, client, settings):
    board = Lists(demo)
    last, this = _months()
    collected = [board.demand(title=f"上月需求{index}") for index in range(3)]
    Demand.objects.filter(pk__in=[d.pk for d in collected]).update(created_at=_at(last))
    for demand in collected:
        claim = lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary)
        lists.claim_fulfil(claim=claim, rating=5)  # met this month
    Demand.objects.filter(pk=board.demand(title="本月需求").pk).update(created_at=_at(this))
    dropped = board.demand(title="重复需求")
    Demand.objects.filter(pk=dropped.pk).update(created_at=_at(this))
    settings.METRICS_ROLLUP_ON_COMMIT = True
    DirtyCell.objects.all().delete()
    lists.demand_cancel(demand=Demand.objects.get(pk=dropped.pk))  # a duplicate: not a need
    assert ("demands_collected", this) in set(DirtyCell.objects.values_list("metric", "day"))
    settings.METRICS_ROLLUP_ON_COMMIT = False
    rollup.rebuild()
    client.force_login(board.secretary)
    now, before = _headline(client, board.community, this), _headline(client, board.community, last)
    assert now["fulfilment"]["value"] == 0  # of this month's one demand (the duplicate left out)
    assert before["fulfilment"]["value"] == 100
    listed = client.get(now["fulfilment"]["records"])
    assert listed.status_code == 200 and listed.context["cl"].result_count == 0


def test_the_upgrade_fills_the_new_rates_for_every_intake_day(loop):
    import importlib

    from django.apps import apps

    upgrade = importlib.import_module("demands.migrations.0009_intake_rates")
    last, _this = _months()
    ticket = _closed(loop, loop.ticket())
    Ticket.objects.filter(pk=ticket.pk).update(created_at=_at(last))
    MetricValue.objects.filter(metric="tickets_received_closed").delete()  # as before the upgrade
    DirtyCell.objects.all().delete()
    upgrade.mark_days(apps, None)
    assert ("tickets_received_closed", last) in set(DirtyCell.objects.values_list("metric", "day"))
    rollup.rollup_dirty_cells()
    street = loop.demo.beihai
    low, high = rollup.period_bounds(last, rollup.period_end("month", last))
    direct = Ticket.objects.filter(
        node__path__startswith=street.path, status="closed", created_at__gte=low, created_at__lt=high
    ).count()
    cell = MetricValue.objects.get(
        node=street, metric="tickets_received_closed", period_kind="month", period_start=last, dimension=""
    )
    assert direct >= 1 and cell.value == direct
    assert not DirtyCell.objects.exists()

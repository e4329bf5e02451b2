import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from grid import rollup
from grid.models import GridNode

pytestmark = pytest.mark.django_db


@pytest.fixture
def rolled(loop):
    for index in range(6):
        ticket = loop.ticket(node=loop.building_a if index % 2 else loop.building_b)
        if index % 3 == 0:
            from demands import services

            services.ticket_rate(
                ticket=services.ticket_resolve(
                    ticket=services.ticket_accept(ticket=ticket, actor=ticket.assignee),
                    actor=ticket.assignee,
                    note="ok",
                ),
                rating=5,
            )
    rollup.rebuild()
    return loop


def _queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
        assert response.status_code == 200
    return len(context.captured_queries)


def test_dashboard_uses_a_fixed_number_of_queries_whatever_the_subtree(rolled, client):
    client.force_login(rolled.demo.user("wys_leader"))
    street = _queries(client, f"/dashboard/{rolled.demo.street.pk}/")
    community = _queries(client, f"/dashboard/{rolled.demo.beihai.pk}/")
    grid = _queries(client, f"/dashboard/{rolled.demo.grid_a.pk}/")
    assert street == community == grid <= 15


def test_dashboard_figures_come_from_the_rolled_up_rows_and_link_to_records(rolled, client):
    client.force_login(rolled.demo.user("bhxc_secretary"))
    response = client.get(f"/dashboard/{rolled.demo.beihai.pk}/")
    headline = {row["code"]: row for row in response.context["data"]["headline"]}
    assert headline["received"]["value"] == 6
    assert headline["closed"]["value"] == 2
    assert headline["closure_rate"]["value"] == round(2 / 6 * 100, 1)
    assert headline["satisfaction"]["value"] == 100.0
    assert headline["received"]["records"].startswith("/admin/demands/ticket/")
    assert client.get(headline["received"]["records"]).status_code == 200
    ranking = {row["name"]: row["figures"]["received"] for row in response.context["ranking"]}
    assert ranking[rolled.demo.grid_a.name] == 3 and ranking[rolled.demo.grid_b.name] == 3
    drill = client.get(f"/dashboard/{rolled.demo.grid_a.pk}/")
    assert {row["code"]: row["value"] for row in drill.context["data"]["headline"]}["received"] == 3


def test_dashboard_is_scoped_and_exports_what_it_shows(rolled, client):
    client.force_login(rolled.demo.user("c002_secretary"))
    assert client.get(f"/dashboard/{rolled.demo.beihai.pk}/").status_code == 404
    assert client.get(f"/dashboard/{rolled.demo.street.pk}/").status_code == 404
    client.force_login(rolled.demo.user("bhxc_g1_a"))
    assert client.get(f"/dashboard/{rolled.demo.grid_a.pk}/").status_code == 403
    client.force_login(rolled.demo.user("bhxc_secretary"))
    export = client.get(f"/dashboard/{rolled.demo.beihai.pk}/?format=xlsx")
    workbook = load_workbook(io.BytesIO(export.content))
    cells = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert any(row[1] == 6 for row in cells if row and len(row) > 1)
    assert (
        len(list(workbook.worksheets[1].iter_rows()))
        == 1 + GridNode.objects.filter(parent=rolled.demo.beihai).count()
    )


def test_metrics_api_lists_rows_of_the_callers_subtree_only(rolled, api_client):
    api_client.force_authenticate(rolled.demo.user("bhxc_secretary"))
    month = timezone.localdate().replace(day=1).isoformat()
    rows = api_client.get(
        "/api/v1/metrics/",
        {"node": rolled.demo.beihai.pk, "metric": "tickets_received", "period_kind": "month", "start": month},
    ).json()["results"]
    assert [(r["value"], r["dimension"]) for r in rows if r["dimension"] == ""] == [("6.00", "")]
    api_client.force_authenticate(rolled.demo.user("c002_secretary"))
    assert api_client.get("/api/v1/metrics/", {"node": rolled.demo.beihai.pk}).json()["count"] == 0
    everything = api_client.get("/api/v1/metrics/", {"metric": "tickets_received"}).json()["results"]
    assert rolled.demo.beihai.pk not in {r["node"] for r in everything}


def test_a_long_ranking_is_paged_in_rank_order_while_the_map_and_export_keep_every_child(loop, client):
    from grid.services import node_create

    community = loop.demo.beihai
    grids = [
        node_create(parent=community, level="grid", code=f"PAGED-{index:02d}", name=f"分页网格{index:02d}")
        for index in range(60)
    ]
    # Grid n gets n tickets, so the ranking by tickets received is the reverse of creation order.
    for index, grid in enumerate(grids[:55]):
        for _ in range(index % 7 if index < 50 else index - 40):
            loop.ticket(node=grid)
    rollup.rebuild()
    client.force_login(loop.demo.user("bhxc_secretary"))
    url = f"/dashboard/{community.pk}/"
    first = client.get(url)
    children = GridNode.objects.filter(parent=community).count()
    assert children > 60
    rows = first.context["ranking"]
    assert len(rows) == 50 and [row["position"] for row in rows] == list(range(1, 51))
    values = [row["figures"]["received"] for row in rows]
    assert values == sorted(values, reverse=True) and values[0] == 14  # grid 54: 54 - 40 tickets
    assert rows[0]["name"] == "分页网格54"
    assert len(first.context["payload"]["map"]) == children
    second = client.get(url, {"page": 2})
    later = second.context["ranking"]
    assert later[0]["position"] == 51 and len(later) == min(50, children - 50)
    assert {row["id"] for row in rows}.isdisjoint({row["id"] for row in later})
    assert 'rel="next"' in first.content.decode() and 'rel="prev"' in second.content.decode()
    # Nonsense page and rank parameters fall back to the first page by tickets received.
    odd = client.get(url, {"page": "abc", "rank": "nonsense"})
    assert odd.status_code == 200 and odd.context["ranking"][0]["name"] == "分页网格54"
    assert client.get(url, {"page": "999"}).context["ranking"][-1]["position"] == children
    assert _queries(client, url) == _queries(client, f"/dashboard/{loop.demo.grid_a.pk}/")
    # Ranking by a rate of a population snapshot reads one more query, still within the bound.
    coverage = f"{url}?rank=visit_coverage&page=2"
    assert _queries(client, coverage) <= 15
    assert client.get(coverage).context["ranking"][0]["position"] == 51
    export = load_workbook(io.BytesIO(client.get(url, {"format": "xlsx"}).content))
    assert len(list(export.worksheets[1].iter_rows())) == 1 + children


def test_every_headline_figure_links_to_a_records_page_that_opens(rolled, client):
    client.force_login(rolled.demo.user("bhxc_secretary"))
    response = client.get(f"/dashboard/{rolled.demo.beihai.pk}/")
    for row in response.context["data"]["headline"]:
        assert row["records"], row["code"]
        # an unknown filter would send the admin to "?e=1" instead
        assert client.get(row["records"]).status_code == 200, (row["code"], row["records"])


def test_durations_show_their_median_and_rank_the_fastest_first(rolled, client):
    from demands.models import Ticket

    now = timezone.now()
    fast = Ticket.objects.get(node=rolled.building_b, accepted_at__isnull=False)
    slow = Ticket.objects.get(node=rolled.building_a, accepted_at__isnull=False)
    Ticket.objects.filter(pk=fast.pk).update(created_at=now - timezone.timedelta(minutes=65), accepted_at=now)
    Ticket.objects.filter(pk=slow.pk).update(created_at=now - timezone.timedelta(hours=5), accepted_at=now)
    rollup.rebuild([rollup.REGISTRY["response_minutes"]])
    client.force_login(rolled.demo.user("bhxc_secretary"))
    response = client.get(f"/dashboard/{rolled.demo.beihai.pk}/?rank=response_median")
    headline = {row["code"]: row["value"] for row in response.context["data"]["headline"]}
    # two tickets, 65 minutes and 5 hours: the median lies in the first one's 10-minute bucket
    assert 1.0 <= headline["response_median"] <= 1.2
    assert 5.0 <= headline["response_p90"] <= 5.5
    ranking = [(row["name"], row["figures"]["response_median"]) for row in response.context["ranking"]]
    assert [name for name, _value in ranking[:2]] == [rolled.demo.grid_b.name, rolled.demo.grid_a.name]
    assert ranking[0][1] < ranking[1][1]
    # a week keeps no percentiles: the figure shows as missing, not as zero
    week = client.get(f"/dashboard/{rolled.demo.beihai.pk}/?period=week")
    assert {row["code"]: row["value"] for row in week.context["data"]["headline"]}["response_median"] is None


def _received_on(loop, *days):
    from demands.models import Ticket

    tz = timezone.get_current_timezone()
    for day in days:
        ticket = loop.ticket(node=loop.building_a)
        when = timezone.datetime.combine(day, timezone.datetime.min.time(), tzinfo=tz) + timezone.timedelta(
            hours=10
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=when)


def test_a_period_under_way_is_compared_with_the_same_days_of_the_previous_one(loop):
    import datetime

    from grid import dashboard as board

    date = datetime.date
    from demands.models import Ticket

    _received_on(loop, date(2025, 2, 3), date(2025, 2, 20), date(2025, 3, 5), date(2025, 3, 6))
    first = Ticket.objects.order_by("created_at").first()
    Ticket.objects.filter(pk=first.pk).update(
        status="closed", closed_at=first.created_at + timezone.timedelta(days=1)
    )
    rollup.rebuild()
    community = loop.demo.beihai

    def headline(kind, start, today=None):
        data = board.build(community, kind, start, today=today)
        return data, {row["code"]: row for row in data["headline"]}

    # March, seen on 10 March: its first ten days against February's first ten (one ticket).
    data, rows = headline("month", date(2025, 3, 1), today=date(2025, 3, 10))
    assert (data["under_way"], data["same_days"]) == (True, True)
    assert (data["last"], data["previous"], data["previous_last"]) == (
        date(2025, 3, 10),
        date(2025, 2, 1),
        date(2025, 2, 10),
    )
    assert rows["received"]["value"] == 2 and rows["received"]["change"] == 1
    # A rate of additive flows is compared over the same days too; a share of households
    # visited, which grows through the period and cannot be summed from days, is not compared.
    # (March so far: 0 of 2 closed; February's first ten days: 1 of 1.)
    assert rows["closure_rate"]["value"] == 0 and rows["closure_rate"]["change"] == -100
    assert rows["visit_coverage"]["change"] is None and rows["visit_coverage"]["note"]
    assert (
        data["trend"]["labels"][-1].startswith("2025-03-01") and data["trend"]["labels"][-1] != "2025-03-01"
    )
    # The same month once it is over: against the whole of February (two tickets).
    data, rows = headline("month", date(2025, 3, 1))
    assert (data["under_way"], data["last"], data["previous_last"]) == (
        False,
        date(2025, 3, 31),
        date(2025, 2, 28),
    )
    assert rows["received"]["change"] == 0 and data["trend"]["labels"][-1] == "2025-03-01"
    assert rows["closure_rate"]["change"] == -50  # 0 of 2 against 1 of 2
    # Seen on the last day of March, February's same days are all of February.
    assert board.comparison("month", date(2025, 3, 1), date(2025, 3, 31))["previous_last"] == date(
        2025, 2, 28
    )
    # A day under way: counts are not compared with the whole previous day.
    data, rows = headline("day", date(2025, 3, 6), today=date(2025, 3, 6))
    assert (data["under_way"], data["same_days"]) == (True, False)
    assert rows["received"]["value"] == 1 and rows["received"]["change"] is None
    # Once over, it is: one ticket on 6 March against one on the 5th.
    assert headline("day", date(2025, 3, 6))[1]["received"]["change"] == 0


def test_the_page_says_what_a_period_under_way_is_compared_with(rolled, client):
    client.force_login(rolled.demo.user("bhxc_secretary"))
    today = timezone.localdate()
    response = client.get(f"/dashboard/{rolled.demo.beihai.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert f"{today:%Y-%m-%d}（至今）" in page
    # This month's six tickets against last month's same days (none): +6, said as such.
    assert "变化对比上期同期" in page
    headline = {row["code"]: row for row in response.context["data"]["headline"]}
    assert headline["received"]["change"] == 6
    export = load_workbook(io.BytesIO(client.get(f"/dashboard/{rolled.demo.beihai.pk}/?format=xlsx").content))
    rows = list(export.worksheets[0].iter_rows(values_only=True))
    assert ("对比区间（上期同期）", *rows[2][1:]) == rows[2] and rows[1][2] == today.isoformat()


@pytest.mark.parametrize(
    "period,start",
    [("year", "9999-12-31"), ("month", "9999-12-01"), ("week", "9999-12-30"), ("day", "0001-01-01")],
)
def test_a_period_at_the_end_of_the_calendar_shows_today_instead(rolled, client, period, start):
    client.force_login(rolled.demo.user("bhxc_secretary"))
    url = f"/dashboard/{rolled.demo.beihai.pk}/"
    page = client.get(url, {"period": period, "start": start})
    assert page.status_code == 200
    assert page.context["data"]["start"] == rollup.period_start(period, timezone.localdate())
    assert client.get(url, {"period": period, "start": start, "format": "xlsx"}).status_code == 200


def test_the_export_keeps_the_pages_order_and_language_and_its_text_stays_text(rolled, client):
    hostile = '=HYPERLINK("http://x.example/","点此")'
    GridNode.objects.filter(pk=rolled.demo.grid_b.pk).update(name=hostile + "\x0b")
    client.force_login(rolled.demo.user("bhxc_secretary"))
    url = f"/dashboard/{rolled.demo.beihai.pk}/"
    page = client.get(url, {"rank": "closure_rate"})
    assert "rank=closure_rate&format=xlsx" in page.content.decode()
    shown = [(row["position"], row["name"]) for row in page.context["data"]["ranking"]]
    export = client.get(url, {"rank": "closure_rate", "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE="en")
    assert export.status_code == 200
    sheets = load_workbook(io.BytesIO(export.content)).worksheets
    assert [sheet.title for sheet in sheets] == ["Overview", "Ranking of lower levels"]
    assert list(sheets[0].iter_rows(values_only=True))[1][0] == "Period shown"
    rows = list(sheets[1].iter_rows(values_only=True))
    assert rows[0][:3] == ("Rank", "Name", "Tickets received")
    assert [(row[0], row[1]) for row in rows[1:]] == [(p, n.replace("\x0b", "")) for p, n in shown]
    cell = next(c for c in sheets[1]["B"] if c.value == hostile)
    assert cell.data_type == "s"  # the name, not a live formula


def test_the_leaderboard_takes_no_unicode_digit_for_an_id(rolled, client):
    client.force_login(rolled.demo.user("wys_staff"))
    for params in ({"round": "²"}, {"community": "²"}, {"round": "1" * 30}):
        assert client.get("/services/leaderboard/", params).status_code == 200


def test_demand_and_event_figures_link_to_exactly_the_records_of_their_period(loop, client):
    """One fulfilled demand in January and one in March; events in January and March, and one
    cancelled in March: March's figures and the lists behind them agree."""
    import datetime

    from demands import lists
    from demands.models import Demand
    from services import services as service_services
    from services.demo import ensure_kinds
    from services.models import ServiceEvent

    tz = timezone.get_current_timezone()
    year = timezone.localdate().year - 1
    january, march = (datetime.datetime(year, month, 10, 9, tzinfo=tz) for month in (1, 3))
    building = loop.building_a
    for moment in (january, march):
        demand = lists.demand_create(
            created_by=loop.secretary, node=building, title="加装扶手", kind="facilities", source="visit"
        )
        Demand.objects.filter(pk=demand.pk).update(created_at=moment, status="fulfilled", fulfilled_at=moment)
    kinds = ensure_kinds()
    for moment, cancelled in ((january, False), (march, False), (march, True)):
        event = service_services.event_create(
            node=loop.demo.beihai,
            kind=kinds["volunteer"],
            title="清扫楼道",
            organizer_kind="community",
            starts_at=moment,
            ends_at=moment + datetime.timedelta(hours=2),
        )
        if cancelled:
            ServiceEvent.objects.filter(pk=event.pk).update(cancelled_at=moment)
    rollup.rebuild()
    client.force_login(loop.secretary)
    page = client.get(
        f"/dashboard/{loop.demo.beihai.pk}/", {"period": "month", "start": march.date().isoformat()}
    )
    headline = {row["code"]: row for row in page.context["data"]["headline"]}
    assert headline["events"]["value"] == 1 and headline["fulfilment"]["value"] == 100
    for code, expected in (("events", 1), ("fulfilment", 1)):
        listed = client.get(headline[code]["records"])
        assert listed.status_code == 200 and listed.context["cl"].result_count == expected, code


def test_a_child_archived_in_the_period_stays_in_the_ranking_marked(rolled, client):
    from demands import services as ticket_services
    from demands.models import Ticket
    from grid import services as grid_services

    secretary = rolled.demo.user("bhxc_secretary")
    # The grid's open tickets are finished first (a place with open tickets is not archived).
    for ticket in Ticket.objects.filter(node__path__startswith=rolled.demo.grid_a.path).exclude(
        status__in=["closed", "rejected", "duplicate"]
    ):
        ticket_services.ticket_reject(ticket=ticket, actor=secretary, note="网格撤并，另行处理")
    grid_services.node_archive(node=rolled.demo.grid_a)
    client.force_login(secretary)
    page = client.get(f"/dashboard/{rolled.demo.beihai.pk}/")
    headline = {row["code"]: row["value"] for row in page.context["data"]["headline"]}
    ranking = page.context["data"]["ranking"]
    assert sum(row["figures"]["received"] or 0 for row in ranking) == headline["received"] == 6
    archived = [row["name"] for row in ranking if row["id"] == rolled.demo.grid_a.pk]
    assert archived == [f"{rolled.demo.grid_a.name}（已撤销）"]

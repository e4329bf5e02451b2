"""The grid competition: ties, who competes, what counts, and the admin around its rounds."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grid.models import GridNode
from services import services
from services.assessment import assessment_compute, assessment_publish, ensure_indicators
from services.demo import ensure_kinds
from services.models import AssessmentRound, Indicator

pytestmark = pytest.mark.django_db


def _last_month():
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def test_equal_scores_share_a_rank_and_the_month_must_have_begun(demo):
    round_ = assessment_compute(street=demo.street, month=_last_month())  # nobody did anything
    rows = list(round_.assessments.all())
    assert len(rows) > 1 and {a.score for a in rows} == {0}
    assert {(a.rank_in_street, a.rank_in_community) for a in rows} == {(1, 1)}
    following = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    for street, month in ((demo.street, following), (demo.street, datetime.date(9999, 12, 1))):
        with pytest.raises(ValidationError) as refused:
            assessment_compute(street=street, month=month)
        assert "month" in refused.value.message_dict
    with pytest.raises(ValidationError) as community:
        assessment_compute(street=demo.beihai, month=_last_month())
    assert "street" in community.value.message_dict


def test_a_grid_archived_before_the_month_no_longer_competes_and_a_cancelled_patrol_scores_nothing(demo):
    month = _last_month()
    GridNode.objects.filter(pk=demo.grid_b.pk).update(
        archived_at=timezone.now() - datetime.timedelta(days=70)
    )
    start = timezone.make_aware(
        datetime.datetime.combine(month + datetime.timedelta(days=5), datetime.time(9))
    )
    kinds = ensure_kinds()
    patrols = [
        services.event_create(
            node=demo.grid_a,
            kind=kinds["patrol"],
            title="网格巡查",
            organizer_kind="community",
            starts_at=start + datetime.timedelta(days=day),
            ends_at=start + datetime.timedelta(days=day, hours=3),
        )
        for day in (0, 1)
    ]
    for patrol in patrols:
        services.sign_in(event=patrol, role="grid_worker", user=demo.user("bhxc_g1_a"))
    services.event_cancel(event=patrols[1], reason="下雨", by=demo.user("bhxc_secretary"))
    round_ = assessment_compute(street=demo.street, month=month)
    competing = set(round_.assessments.values_list("grid_id", flat=True))
    assert demo.grid_a.pk in competing and demo.grid_b.pk not in competing
    values = round_.assessments.get(grid=demo.grid_a).values
    assert (values["patrol_hours"], values["events_held"], values["volunteer_hours"]) == (3.0, 1, 3.0)


def test_a_round_in_the_admin_is_its_streets_month_and_stays_so(demo, client):
    client.force_login(demo.user("wys_leader"))
    mid_month = _last_month().replace(day=15)
    client.post("/admin/services/assessmentround/add/", {"street": demo.street.pk, "month": mid_month})
    added = AssessmentRound.objects.get(street=demo.street)
    assert added.month == _last_month()
    page = client.post("/admin/services/assessmentround/add/", {"street": demo.beihai.pk, "month": mid_month})
    assert "street" in page.context["adminform"].form.errors
    client.post("/admin/services/assessmentround/", {"action": "compute", "_selected_action": [added.pk]})
    added.refresh_from_db()
    assert added.computed_at is not None and AssessmentRound.objects.count() == 1
    assessment_publish(round_=added)
    earlier = added.month.replace(year=added.month.year - 1)
    client.post(
        f"/admin/services/assessmentround/{added.pk}/change/", {"street": demo.street.pk, "month": earlier}
    )
    added.refresh_from_db()
    assert added.month == _last_month()


def test_the_street_sets_the_weights_not_a_community(demo, client):
    ensure_indicators()
    indicator = Indicator.objects.get(code="patrol_hours")
    url = f"/admin/services/indicator/{indicator.pk}/change/"
    form = {"code": indicator.code, "name": indicator.name, "is_active": "on", "order": 0}
    client.force_login(demo.user("bhxc_staff"))  # community staff of one community
    assert client.post(url, {**form, "weight": 99}).status_code == 403
    client.force_login(demo.user("wys_staff"))  # the street's staff
    client.post(url, {**form, "weight": 7})
    assert Indicator.objects.get(pk=indicator.pk).weight == 7


def test_the_assessment_list_costs_the_same_queries_however_many_rounds(demo, client):
    client.force_login(demo.user("wys_leader"))
    assessment_compute(street=demo.street, month=_last_month())

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/admin/services/assessment/").status_code == 200
        return len(context.captured_queries)

    few = queries()
    for year in (2021, 2022, 2023, 2024):
        assessment_compute(street=demo.street, month=_last_month().replace(year=year))
    assert queries() == few


def test_a_cancelled_demand_is_not_an_appeal_collected(demo):
    from demands import lists
    from demands.models import Demand

    month = _last_month()
    inside = timezone.make_aware(
        datetime.datetime.combine(month + datetime.timedelta(days=3), datetime.time(9))
    )
    building = GridNode.objects.filter(path__startswith=demo.grid_a.path, level="building").first()
    made = [
        lists.demand_create(node=building, title=f"需求{n}", kind="facilities", source="visit")
        for n in range(3)
    ]
    Demand.objects.filter(pk__in=[d.pk for d in made]).update(created_at=inside)
    for demand in made[1:]:
        lists.demand_cancel(demand=Demand.objects.get(pk=demand.pk))
    values = assessment_compute(street=demo.street, month=month).assessments.get(grid=demo.grid_a).values
    assert values["demands_collected"] == 1

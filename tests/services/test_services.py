import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils import timezone

from grid.errors import ConflictError
from residents import services as resident_services
from residents.choices import CareTagKind, Colour, ResidentStatus
from residents.models import ColourMark, Household
from services import services
from services.assessment import assessment_compute, assessment_publish
from services.demo import ensure_kinds
from services.eligibility import eligible_residents
from services.models import PointsEntry, Reward, ServiceEvent, Visit, VisitCadence
from services.selectors import overdue_households
from tests.demands.test_concurrency import _race
from tests.residents.factories import make_household, make_resident

pytestmark = pytest.mark.django_db


@pytest.fixture
def area(register):
    """The resident register fixture plus event kinds."""
    register.kinds = ensure_kinds()
    return register


def _birthday(years: int, days_to_go: int = 0) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) + datetime.timedelta(days=days_to_go)


# Eligibility ------------------------------------------------------------------------------


def test_eligibility_follows_the_rule_including_birthdays_and_tags(area):
    unit = area.unit_a
    turning = make_resident(make_household(unit, "501"), "明天满七十", born=_birthday(70, days_to_go=1))
    seventy = make_resident(make_household(unit, "502"), "刚满七十", born=_birthday(70))
    canteen = services.programme_create(
        node=area.demo.beihai, name="孝善食堂", benefit="85折", rule={"age_min": 70}
    )
    today = timezone.localdate()
    eligible_today = set(eligible_residents(canteen, today))
    assert seventy in eligible_today and turning not in eligible_today
    assert turning in set(eligible_residents(canteen, today + datetime.timedelta(days=1)))
    assert area.elder in eligible_today  # born 1940
    assert area.young not in eligible_today
    delivery = services.programme_create(
        node=area.demo.beihai,
        name="送餐上门",
        benefit="送餐",
        rule={"all": [{"age_min": 80}, {"tag": "living_alone"}]},
    )
    assert set(eligible_residents(delivery)) == {area.elder}
    tag = area.elder.care_tags.get(kind=CareTagKind.LIVING_ALONE)
    resident_services.care_tag_update(tag=tag, until=today)
    assert not eligible_residents(delivery).exists()
    resident_services.resident_set_status(resident=seventy, status=ResidentStatus.DECEASED)
    assert seventy not in set(eligible_residents(canteen))


def test_a_malformed_rule_is_refused(area):
    for rule in ({"age_min": "old"}, {"tag": "rich"}, {"all": []}, {"unknown": 1}, ["age_min", 70]):
        with pytest.raises(ValidationError):
            services.programme_create(node=area.demo.beihai, name="x", benefit="y", rule=rule)


def test_subsidy_deliveries_never_exceed_the_month_and_ineligible_is_refused(area):
    canteen = services.programme_create(
        node=area.demo.beihai,
        name="孝善食堂",
        benefit="补贴",
        rule={"age_min": 70},
        monthly_subsidy=Decimal("100"),
    )
    services.delivery_record(programme=canteen, resident=area.elder, kind="meal", amount=Decimal("60"))
    with pytest.raises(ConflictError) as error:
        services.delivery_record(programme=canteen, resident=area.elder, kind="meal", amount=Decimal("50"))
    assert error.value.code == "subsidy_spent"
    exchange = services.delivery_record(
        programme=canteen, resident=area.elder, kind="subsidy_exchange", amount=Decimal("40"), note="兑换大米"
    )
    assert exchange.amount == 40 and services.subsidy_left(canteen, area.elder, timezone.localdate()) == 0
    with pytest.raises(ValidationError):
        services.delivery_record(programme=canteen, resident=area.young, kind="meal")


# Visits -----------------------------------------------------------------------------------


def _visit(household, worker, days_ago):
    return Visit.objects.create(
        household=household,
        visitor=worker,
        findings="正常",
        visited_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_overdue_visits_follow_the_colour_cadence(area):
    worker = area.demo.user("bhxc_g1_a")
    red = make_household(area.unit_a, "601", colour=Colour.RED)
    yellow = make_household(area.unit_a, "602", colour=Colour.YELLOW)
    blue_never = make_household(area.unit_a, "603", colour=Colour.BLUE)
    blue_recent = make_household(area.unit_a, "604", colour=Colour.BLUE)
    _visit(red, worker, 8)
    _visit(yellow, worker, 20)
    _visit(blue_recent, worker, 80)
    due = list(overdue_households(user=worker))
    assert red in due and blue_never in due
    assert yellow not in due and blue_recent not in due
    assert due.index(red) < due.index(blue_never)  # red first
    VisitCadence.objects.create(colour=Colour.YELLOW, days=14)
    assert yellow in list(overdue_households(user=worker))
    assert area.home_b not in list(overdue_households(user=worker))  # grid B is not mine


def test_a_visit_raises_a_ticket_and_a_demand_and_changes_the_colour_in_one_step(area):
    worker = area.demo.user("bhxc_g1_a")
    from demands.demo import ensure_categories
    from demands.models import TicketCategory

    ensure_categories()
    visit = services.visit_record(
        household=area.home_a,
        visitor=worker,
        findings="老人独居，楼道灯坏",
        colour=Colour.RED,
        colour_reason="独居高龄，需每周走访",
        ticket={"category": TicketCategory.objects.get(code="facilities"), "description": "楼道灯坏了"},
        demand={"title": "需要助餐", "kind": "meals"},
    )
    assert visit.colour_after == Colour.RED and Household.objects.get(pk=area.home_a.pk).colour == Colour.RED
    assert ColourMark.objects.filter(household=area.home_a, colour=Colour.RED, set_by=worker).exists()
    assert visit.ticket.source == "patrol" and visit.ticket.assignee == worker
    assert visit.demand.source == "visit" and visit.demand.beneficiary_household == area.home_a
    with pytest.raises(ValidationError):
        services.visit_record(household=area.home_a, visitor=worker, findings=" ")


# Points ledger ----------------------------------------------------------------------------


def _event(area, hours=2, **kwargs):
    start = timezone.now() - datetime.timedelta(days=1)
    values = {
        "node": area.demo.beihai,
        "kind": area.kinds["volunteer"],
        "title": "志愿服务",
        "organizer_kind": "community",
        "starts_at": start,
        "ends_at": start + datetime.timedelta(hours=hours),
    }
    values.update(kwargs)
    return services.event_create(**values)


def test_points_are_double_entry_never_negative_and_balances_derive_from_entries(area):
    volunteer = area.demo.user("bhxc_volunteer")
    event = _event(area, hours=3)
    services.sign_in(event=event, role="volunteer", user=volunteer)
    services.sign_in(event=event, role="volunteer", user=volunteer)  # twice: one record
    assert event.participations.count() == 1
    assert services.award_points(event=event, actor=None) == 1
    with pytest.raises(ConflictError):
        services.award_points(event=event, actor=None)
    account = services.account_for(community=area.demo.beihai, user=volunteer)
    assert services.balance(account) == 30  # 3 hours × 10 points
    rice = Reward.objects.create(community=area.demo.beihai, name="大米", kind="goods", cost=20, stock=5)
    services.points_redeem(account=account, reward=rice, actor=None)
    assert services.balance(account) == 10
    with pytest.raises(ConflictError) as error:
        services.points_redeem(account=account, reward=rice, actor=None)
    assert error.value.code == "insufficient_points"
    assert Reward.objects.get(pk=rice.pk).stock == 4
    assert PointsEntry.objects.aggregate(total=Sum("amount"))["total"] == 0
    for movement in {e.transaction_id for e in PointsEntry.objects.all()}:
        assert PointsEntry.objects.filter(transaction_id=movement).aggregate(t=Sum("amount"))["t"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_redemptions_at_once_cannot_overdraw(area):
    volunteer = area.demo.user("bhxc_volunteer")
    account = services.account_for(community=area.demo.beihai, user=volunteer)
    services.points_grant(
        account=account, amount=30, memo="优秀志愿者", actor=area.demo.user("bhxc_secretary")
    )
    reward = Reward.objects.create(community=area.demo.beihai, name="理发", kind="service", cost=20)
    outcomes = _race(
        lambda: services.points_redeem(account=account, reward=reward, actor=None),
        lambda: services.points_redeem(account=account, reward=reward, actor=None),
    )
    assert sorted(kind for kind, _value in outcomes) == ["error", "ok"], outcomes
    assert services.balance(account) == 10
    assert PointsEntry.objects.aggregate(total=Sum("amount"))["total"] == 0


# Events -----------------------------------------------------------------------------------


def test_a_weekly_series_generates_its_occurrences_once(area):
    from services.models import EventSeries

    start = timezone.localdate() - datetime.timedelta(days=30)
    film = EventSeries.objects.create(
        node=area.demo.beihai,
        kind=area.kinds["red_film"],
        title="红色电影之夜",
        recurrence="weekly",
        weekday=2,
        start_time=datetime.time(19),
        starts_on=start,
    )
    until = start + datetime.timedelta(days=27)
    made = services.series_generate(series=film, until=until)
    assert made == 4
    assert all(
        e.starts_at.astimezone(timezone.get_current_timezone()).weekday() == 2 for e in film.events.all()
    )
    assert services.series_generate(series=film, until=until) == 0


def test_participants_sign_in_through_the_events_qr_code(area, client):
    event = _event(area)
    volunteer = area.demo.user("bhxc_volunteer")
    client.force_login(volunteer)
    url = f"/e/{event.checkin_code}/"
    assert client.get(url).status_code == 200
    client.post(url)
    client.post(url)
    assert [(p.user, p.hours) for p in event.participations.all()] == [(volunteer, Decimal("2.00"))]
    assert client.get("/e/not-a-code/").status_code == 404


# Competition ------------------------------------------------------------------------------


def test_scores_come_from_the_records_and_are_frozen_once_published(area):
    from demands.demo import ensure_categories
    from tests.demands.conftest import Loop

    ensure_categories()
    loop = Loop(area.demo)
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    inside = timezone.make_aware(
        datetime.datetime.combine(last_month + datetime.timedelta(days=10), datetime.time(10))
    )
    from demands.models import Ticket

    for _ in range(3):
        Ticket.objects.filter(pk=loop.ticket().pk).update(created_at=inside)
    Ticket.objects.filter(pk=loop.ticket(node=loop.building_b).pk).update(created_at=inside)
    _visit(area.home_a, loop.worker_a, 0)
    Visit.objects.filter(household=area.home_a).update(visited_at=inside)
    round_ = assessment_compute(street=area.demo.street, month=last_month)
    rows = {a.grid.code: a for a in round_.assessments.select_related("grid")}
    grid_a, grid_b = rows[area.demo.grid_a.code], rows[area.demo.grid_b.code]
    assert (grid_a.values["appeals_collected"], grid_b.values["appeals_collected"]) == (3, 1)
    assert grid_a.values["visits_done"] == 1
    assert grid_a.values["visit_coverage"] == 50.0  # one of its two households
    assert grid_a.score > grid_b.score and grid_a.rank_in_street == 1
    assert len(rows) == 12 and len(grid_a.values) == 12
    assessment_publish(round_=round_)
    score_before = grid_a.score
    Ticket.objects.filter(node__path__startswith=area.demo.grid_b.path).update(created_at=inside)
    with pytest.raises(ConflictError):
        assessment_compute(street=area.demo.street, month=last_month)
    grid_a.refresh_from_db()
    assert grid_a.score == score_before


def test_service_events_count_co_building_activities(area):
    from tests.grid.factories import make_unit

    unit = make_unit(area.demo.beihai, name="共建单位")
    for _ in range(3):
        _event(area, kind=area.kinds["co_building"], organizer_kind="unit", organizer_unit=unit)
    with pytest.raises(ValidationError):
        _event(area, kind=area.kinds["co_building"], organizer_kind="unit")  # which unit?
    assert ServiceEvent.objects.filter(kind__is_co_building=True).count() == 3


def test_a_programme_selected_by_a_sensitive_group_lists_people_only_for_those_who_may_see_it(
    area, client, api_client
):
    from residents.choices import AccessAction
    from residents.models import AccessLog

    programme = services.programme_create(
        node=area.unit_a.parent, name="助残服务", benefit="上门", rule={"any": [{"tag": "disabled"}]}
    )  # a building's programme: the street leader, the building lead and the grid worker see it
    for username, sees in (("wys_leader", False), ("bhxc_building_lead", False), ("bhxc_g1_a", True)):
        user = area.demo.user(username)
        client.force_login(user)
        api_client.force_authenticate(user)
        page = client.get(f"/services/programmes/{programme.pk}/")
        assert page.status_code == 200, username
        api = api_client.get(f"/api/v1/programs/{programme.pk}/eligible/")
        assert ([r.name for r in page.context["residents"]] == ["王秀兰"]) is sees, username
        assert ([r["name"] for r in api.json()["results"]] == ["王秀兰"]) is sees, username
        logged = AccessLog.objects.filter(user=user, resident=area.elder, action=AccessAction.VIEW_SENSITIVE)
        assert logged.exists() is sees, username


def test_sign_ins_close_when_points_are_awarded_and_a_long_event_counts_a_day(area):
    volunteer, late = area.demo.user("bhxc_volunteer"), area.demo.user("bhxc_g1_a")
    event = _event(area, hours=30)  # 08:00 to 14:00 the next day
    first = services.sign_in(event=event, role="volunteer", user=volunteer)
    assert first.hours == 24
    with pytest.raises(ValidationError):
        services.sign_in(event=event, role="volunteer", user=late, hours=Decimal("25"))
    services.award_points(event=event, actor=None)
    with pytest.raises(ConflictError) as error:
        services.sign_in(event=event, role="volunteer", user=late)
    assert error.value.code == "already_awarded"
    with pytest.raises(ValidationError) as refused:
        _event(area, node=area.demo.street)
    assert "node" in refused.value.message_dict


def test_the_event_api_signs_in_only_people_of_here_and_only_the_office_awards(area, api_client):
    from grid import services as grid_services
    from grid.choices import PartyLevel, PartyMemberKind
    from grid.models import PartyMembership, PartyOrganization

    event = _event(area, hours=2, node=area.demo.grid_a)  # the grid worker's own event
    worker = area.demo.user("bhxc_g1_a")
    stranger = area.demo.user("c002_secretary")  # another community's account
    organization = PartyOrganization.objects.filter(
        node__path__startswith=area.demo.other_community.path
    ).first()
    organization = organization or PartyOrganization.objects.create(
        node=area.demo.other_community, name="别处党委", level=PartyLevel.COMMUNITY_COMMITTEE
    )
    elsewhere = PartyMembership.objects.filter(
        pk=grid_services.party_membership_create(
            organization=organization, name="别处党员", kind=PartyMemberKind.IN_SERVICE
        ).pk
    )
    api_client.force_authenticate(worker)
    url = f"/api/v1/service-events/{event.pk}/"
    far = api_client.post(url + "sign-in/", {"role": "volunteer", "user": stranger.pk}, format="json")
    assert far.status_code == 400 and stranger.name not in far.content.decode()
    member = elsewhere.first()  # a party member of another community, not registered here
    answer = api_client.post(url + "sign-in/", {"role": "volunteer", "member": member.pk}, format="json")
    assert answer.status_code == 400 and member.name not in answer.content.decode()
    volunteer = area.demo.user("bhxc_volunteer")
    near = api_client.post(url + "sign-in/", {"role": "volunteer", "user": volunteer.pk}, format="json")
    assert near.status_code == 201
    assert api_client.post(url + "award-points/").status_code == 403
    api_client.force_authenticate(area.demo.user("bhxc_secretary"))
    assert api_client.post(url + "award-points/").json() == {"awarded": 1}
    account = services.account_for(community=area.demo.beihai, user=volunteer)
    reward = Reward.objects.create(community=area.demo.beihai, name="毛巾", kind="goods", cost=10, stock=3)
    redeemed = api_client.post(f"/api/v1/points/{account.pk}/redeem/", {"reward": reward.pk}, format="json")
    assert redeemed.status_code in (200, 201), redeemed.content


def test_the_qr_sign_in_says_why_it_is_closed(area, client):
    event = _event(area, hours=2)
    services.award_points(event=event, actor=None)
    client.force_login(area.demo.user("bhxc_volunteer"))
    page = client.post(f"/e/{event.checkin_code}/")
    assert page.status_code == 200
    assert "积分已发放" in page.content.decode() and not event.participations.exists()


def _figures(node, day):
    from grid.models import MetricValue

    cells = MetricValue.objects.filter(node=node, period_kind="day", period_start=day, dimension="")
    return {metric: float(value) for metric, value in cells.values_list("metric", "value")}


def test_a_cancelled_event_takes_no_sign_ins_no_points_and_leaves_every_figure(area, settings):
    from django.core.cache import cache

    from grid import rollup
    from grid.models import DirtyCell

    settings.METRICS_ROLLUP_ON_COMMIT = True
    cache.delete(rollup.SCHEDULED_KEY)
    volunteer, worker = area.demo.user("bhxc_volunteer"), area.demo.user("bhxc_g1_a")
    secretary = area.demo.user("bhxc_secretary")
    kept, called_off = _event(area, hours=3), _event(area, hours=2, title="露天电影")
    for event in (kept, called_off):
        services.sign_in(event=event, role="volunteer", user=volunteer)
    services.sign_in(event=called_off, role="volunteer", user=worker)
    day = timezone.localtime(kept.starts_at).date()
    rollup.rebuild([rollup.REGISTRY[code] for code in services.SERVICE_METRICS])
    before = _figures(area.demo.street, day)
    assert (before["events_held"], before["person_times"], before["volunteer_hours"]) == (2, 3, 7)

    with pytest.raises(ValidationError) as blank:
        services.event_cancel(event=called_off, reason="  ", by=secretary)
    assert "cancel_reason" in blank.value.message_dict
    DirtyCell.objects.all().delete()
    services.event_cancel(event=called_off, reason="大雨", by=secretary)
    called_off.refresh_from_db()
    assert called_off.cancelled_by == secretary and called_off.cancel_reason == "大雨"
    assert set(DirtyCell.objects.values_list("metric", "day")) == {
        (code, day) for code in services.SERVICE_METRICS
    }
    rollup.rollup_dirty_cells()
    after = _figures(area.demo.street, day)
    assert (after["events_held"], after["person_times"], after["volunteer_hours"]) == (1, 1, 3)
    assert _figures(area.demo.beihai, day)["person_times"] == 1

    with pytest.raises(ConflictError) as again:
        services.event_cancel(event=called_off, reason="大雨", by=secretary)
    assert again.value.code == "cancelled"
    with pytest.raises(ConflictError) as late:
        services.sign_in(event=called_off, role="volunteer", user=area.demo.user("bhxc_building_lead"))
    assert late.value.code == "cancelled"
    with pytest.raises(ConflictError) as award:
        services.award_points(event=called_off, actor=secretary)
    assert award.value.code == "cancelled" and not PointsEntry.objects.exists()
    services.award_points(event=kept, actor=secretary)
    with pytest.raises(ConflictError) as held:
        services.event_cancel(event=kept, reason="记错了", by=secretary)
    assert held.value.code == "already_awarded"
    assert ServiceEvent.objects.get(pk=kept.pk).cancelled_at is None


def test_events_are_cancelled_through_the_api_with_a_reason_and_only_in_scope(area, api_client):
    event = _event(area, hours=2)
    url = f"/api/v1/service-events/{event.pk}/cancel/"
    api_client.force_authenticate(area.demo.user("c002_secretary"))  # another community's office
    assert api_client.post(url, {"reason": "大雨"}, format="json").status_code == 404
    api_client.force_authenticate(area.demo.user("bhxc_secretary"))
    missing = api_client.post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    assert api_client.post(url, {"reason": "长" * 201}, format="json").status_code == 400
    assert ServiceEvent.objects.get(pk=event.pk).cancelled_at is None
    done = api_client.post(url, {"reason": "大雨"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["cancel_reason"] == "大雨" and done.json()["cancelled_at"]
    assert api_client.post(url, {"reason": "大雨"}, format="json").status_code == 409


def test_the_admin_cancels_selected_events_with_the_reason_typed(area, client):
    event = _event(area, hours=2)
    client.force_login(area.demo.user("bhxc_secretary"))
    url = "/admin/services/serviceevent/"
    picked = {"action": "cancel", "_selected_action": [event.pk], "index": 0}
    refused = client.post(url, {**picked, "reason": ""}, follow=True)
    assert "请说明取消活动的原因" in refused.content.decode()
    assert ServiceEvent.objects.get(pk=event.pk).cancelled_at is None
    client.post(url, {**picked, "reason": "场地临时征用"}, follow=True)
    event.refresh_from_db()
    assert event.cancelled_at is not None and event.cancel_reason == "场地临时征用"
    listed = client.get(url, {"cancelled": "yes"})
    assert [e.pk for e in listed.context["cl"].result_list] == [event.pk]
    assert "已取消" in listed.content.decode()
    assert list(client.get(url, {"cancelled": "no"}).context["cl"].result_list) == []


def test_a_cancelled_event_shows_as_such_on_the_phone_and_offers_no_sign_in(area, client):
    soon = timezone.now() + datetime.timedelta(hours=1)
    event = _event(area, starts_at=soon, ends_at=soon + datetime.timedelta(hours=2))
    services.event_cancel(event=event, reason="大雨", by=None)
    client.force_login(area.demo.user("bhxc_secretary"))
    page = client.get("/m/events/").content.decode()
    assert "已取消：大雨" in page or "已取消: 大雨" in page
    assert f"/m/events/{event.pk}/" not in page
    signin = client.get(f"/m/events/{event.pk}/").content.decode()
    assert "活动已取消" in signin and 'type="submit"' not in signin


def test_a_volunteer_sees_their_own_points_and_the_rewards_on_the_phone(
    area, client, django_assert_max_num_queries
):
    volunteer, other = area.demo.user("bhxc_volunteer"), area.demo.user("bhxc_g1_a")
    for person, hours in ((volunteer, 3), (other, 2)):
        event = _event(area, hours=hours)
        services.sign_in(event=event, role="volunteer", user=person)
        services.award_points(event=event, actor=None)
    Reward.objects.create(community=area.demo.beihai, name="理发券", kind="service", cost=20)
    Reward.objects.create(community=area.demo.beihai, name="已兑完", kind="goods", cost=5, stock=0)
    mine = services.balance(services.account_for(community=area.demo.beihai, user=volunteer))
    assert mine > 0
    client.force_login(volunteer)
    assert "/m/points/" in client.get("/m/").content.decode()
    with django_assert_max_num_queries(8):
        page = client.get("/m/points/")
    text = page.content.decode()
    assert page.context["accounts"][0].total == mine and f">{mine}<" in text
    assert [entry.amount for entry in page.context["entries"]] == [mine]
    assert "理发券" in text and "已兑完" not in text
    client.force_login(area.demo.user("c002_secretary"))  # no account here: nothing of anyone's
    nobody = client.get("/m/points/")
    assert nobody.context["accounts"] == [] and nobody.context["entries"] == []

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demands import deliberation, lists
from demands.choices import ClaimStatus, DemandStatus, TopicStatus
from demands.models import Claim, Demand, Resource
from grid import services as grid_services
from grid.choices import PartyLevel, PartyMemberKind
from grid.errors import ConflictError
from grid.models import PartyOrganization
from tests.demands.test_concurrency import _race
from tests.grid.factories import UserFactory, make_unit


class Lists:
    def __init__(self, demo):
        self.demo = demo
        self.community = demo.beihai
        self.secretary = demo.user("bhxc_secretary")
        self.building = demo.node("370105005001-B001")
        self.unit = make_unit(self.community, name="测试物业公司")
        self.other_unit = make_unit(self.community, name="测试医院")
        self.stranger = make_unit(demo.other_community, name="别处单位")
        committee = PartyOrganization.objects.get(node=self.community, level=PartyLevel.COMMUNITY_COMMITTEE)
        self.member = grid_services.party_membership_create(
            organization=committee, name="在职党员甲", kind=PartyMemberKind.IN_SERVICE
        )
        for party in ({"unit": self.unit}, {"unit": self.other_unit}):
            registration = lists.registration_request(community=self.community, **party)
            lists.registration_decide(registration=registration, accept=True, actor=self.secretary)

    def demand(self, **kwargs):
        values = {"node": self.building, "title": "楼道加装扶手", "kind": "facilities", "source": "visit"}
        values.update(kwargs)
        return lists.demand_create(created_by=self.secretary, **values)


@pytest.fixture
def board(demo):
    return Lists(demo)


@pytest.mark.django_db
def test_an_unregistered_or_pending_claimant_cannot_claim(board):
    demand = board.demand()
    with pytest.raises(ConflictError) as error:
        lists.claim_create(demand=demand, member=board.member, actor=board.secretary)
    assert error.value.code == "not_registered"
    registration = lists.registration_request(community=board.community, member=board.member)
    with pytest.raises(ConflictError):
        lists.claim_create(demand=demand, member=board.member, actor=board.secretary)
    lists.registration_decide(registration=registration, accept=True, actor=board.secretary)
    assert (
        lists.claim_create(demand=demand, member=board.member, actor=board.secretary).status
        == ClaimStatus.CLAIMED
    )
    with pytest.raises(ConflictError):
        lists.claim_create(demand=board.demand(), unit=board.stranger, actor=board.secretary)


@pytest.mark.django_db
def test_a_single_claimant_demand_cannot_be_claimed_twice(board):
    demand = board.demand()
    lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary)
    with pytest.raises(ConflictError) as error:
        lists.claim_create(demand=demand, unit=board.other_unit, actor=board.secretary)
    assert error.value.code == "already_claimed"
    shared = board.demand(allows_multiple_claims=True, title="四点半课堂")
    lists.claim_create(demand=shared, unit=board.unit, actor=board.secretary)
    lists.claim_create(demand=shared, unit=board.other_unit, actor=board.secretary)
    with pytest.raises(ConflictError):
        lists.claim_create(demand=shared, unit=board.unit, actor=board.secretary)


@pytest.mark.django_db(transaction=True)
def test_two_units_claiming_the_same_demand_at_once_one_wins(board):
    demand = board.demand()
    outcomes = _race(
        lambda: lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary),
        lambda: lists.claim_create(demand=demand, unit=board.other_unit, actor=board.secretary),
    )
    assert sorted(kind for kind, _value in outcomes) == ["error", "ok"], outcomes
    assert Claim.objects.filter(demand=demand).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_last_unit_of_a_resource_cannot_be_booked_twice(board):
    resource = lists.resource_offer(
        community=board.community, unit=board.unit, kind="goods", title="轮椅", quantity=1
    )
    outcomes = _race(
        lambda: lists.resource_book(
            resource=resource, quantity=1, purpose="王奶奶出行", actor=board.secretary
        ),
        lambda: lists.resource_book(
            resource=resource, quantity=1, purpose="李大爷出行", actor=board.secretary
        ),
    )
    assert sorted(kind for kind, _value in outcomes) == ["error", "ok"], outcomes
    assert Resource.objects.get(pk=resource.pk).remaining == 0
    assert resource.bookings.count() == 1


@pytest.mark.django_db
def test_booking_more_than_is_left_is_refused_and_cancelling_frees_the_quantity(board):
    resource = lists.resource_offer(
        community=board.community, unit=board.unit, kind="venue", title="活动室", quantity=3, measure="场"
    )
    first = lists.resource_book(resource=resource, quantity=2, purpose="议事会", actor=board.secretary)
    with pytest.raises(ConflictError) as error:
        lists.resource_book(resource=resource, quantity=2, purpose="讲座", actor=board.secretary)
    assert error.value.code == "not_enough"
    lists.booking_cancel(booking=first)
    assert Resource.objects.get(pk=resource.pk).remaining == 3
    with pytest.raises(ConflictError):
        lists.booking_cancel(booking=first)
    assert Resource.objects.get(pk=resource.pk).remaining == 3


@pytest.mark.django_db
def test_withdrawing_a_claim_opens_the_demand_again(board):
    demand = board.demand()
    claim = lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary)
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.CLAIMED
    lists.claim_withdraw(claim=claim, note="人手不足")
    assert Demand.objects.get(pk=demand.pk).status == DemandStatus.OPEN
    assert lists.claim_create(demand=demand, unit=board.other_unit, actor=board.secretary)


@pytest.mark.django_db
def test_a_demand_is_fulfilled_when_its_claims_are(board):
    demand = board.demand()
    claim = lists.claim_start(claim=lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary))
    lists.claim_fulfil(claim=claim, rating=5, feedback="扶手很结实")
    demand.refresh_from_db()
    assert (demand.status, demand.fulfilled_at is not None) == (DemandStatus.FULFILLED, True)
    with pytest.raises(ConflictError):
        lists.claim_create(demand=demand, unit=board.other_unit, actor=board.secretary)
    shared = board.demand(allows_multiple_claims=True)
    a = lists.claim_create(demand=shared, unit=board.unit, actor=board.secretary)
    b = lists.claim_create(demand=shared, unit=board.other_unit, actor=board.secretary)
    lists.claim_fulfil(claim=a)
    assert Demand.objects.get(pk=shared.pk).status == DemandStatus.CLAIMED
    lists.claim_fulfil(claim=b)
    assert Demand.objects.get(pk=shared.pk).status == DemandStatus.FULFILLED
    with pytest.raises(ConflictError):
        lists.claim_withdraw(claim=b)


@pytest.mark.django_db
def test_project_progress_rolls_up_from_weighted_milestones(board):
    project = lists.project_create(node=board.community, title="孝善食堂", owner_name="三利快餐")
    design = lists.milestone_add(project=project, title="装修", weight=3)
    lists.milestone_add(project=project, title="试运营", weight=1)
    lists.milestone_progress(milestone=design, progress=100)
    project.refresh_from_db()
    assert project.progress == 75
    with pytest.raises(ConflictError):
        lists.project_move(project=project, action="complete")  # not started
    lists.project_move(project=project, action="start")
    assert lists.project_move(project=project, action="complete").status == "completed"


@pytest.mark.django_db
def test_deliberation_one_ballot_each_decision_and_implementation(board):
    topic = deliberation.topic_create(
        node=board.community, title="停车难", description="晚间乱停车", origin="resident"
    )
    alice = deliberation.participant_add(topic=topic, kind="resident_rep", name="居民代表甲")
    bob = deliberation.participant_add(topic=topic, kind="party_member", name="党员乙")
    deliberation.meeting_record(
        topic=topic,
        held_at=datetime.datetime(2026, 10, 1, 19, tzinfo=datetime.UTC),
        minutes="讨论两种方案",
        attendees=[alice, bob],
    )
    slots = deliberation.option_add(topic=topic, title="划定夜间车位")
    gate = deliberation.option_add(topic=topic, title="智能道闸")
    with pytest.raises(ConflictError):
        deliberation.ballot_cast(topic=topic, participant=alice, option=slots)  # vote not open yet
    deliberation.voting_open(topic=topic)
    deliberation.ballot_cast(topic=topic, participant=alice, option=slots)
    with pytest.raises(ConflictError) as error:
        deliberation.ballot_cast(topic=topic, participant=alice, option=gate)
    assert error.value.code == "already_voted"
    deliberation.ballot_cast(topic=topic, participant=bob, option=gate)
    with pytest.raises(Exception) as tie:
        deliberation.topic_decide(topic=topic, actor=board.secretary)
    assert "decision" in str(tie.value)
    decided = deliberation.topic_decide(
        topic=topic, actor=board.secretary, decision="先划定夜间车位，半年后评估"
    )
    assert decided.status == TopicStatus.DECIDED
    project = deliberation.topic_implement(topic=decided, project_title="停车秩序整治", owner_name="居委会")
    assert project.source_topic == topic
    assert (
        deliberation.topic_finish(topic=topic, outcome="乱停车减少", praised=True).status == TopicStatus.DONE
    )


@pytest.mark.django_db(transaction=True)
def test_one_ballot_per_participant_even_when_sent_twice_at_once(board):
    topic = deliberation.topic_create(node=board.community, title="议题", description="说明", origin="staff")
    voter = deliberation.participant_add(topic=topic, kind="resident_rep", name="代表")
    deliberation.meeting_record(
        topic=topic, held_at=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC), minutes="纪要"
    )
    yes, no = (
        deliberation.option_add(topic=topic, title="同意"),
        deliberation.option_add(topic=topic, title="反对"),
    )
    deliberation.voting_open(topic=topic)
    outcomes = _race(
        lambda: deliberation.ballot_cast(topic=topic, participant=voter, option=yes),
        lambda: deliberation.ballot_cast(topic=topic, participant=voter, option=no),
    )
    assert sorted(kind for kind, _value in outcomes) == ["error", "ok"], outcomes
    assert topic.ballots.count() == 1


@pytest.mark.django_db
def test_topic_from_a_cluster_of_tickets_sits_at_their_common_node(board):
    from tests.demands.conftest import Loop

    loop = Loop(board.demo)
    first, second = loop.ticket(node=loop.building_a), loop.ticket(node=loop.building_b)
    topic = deliberation.topic_from_tickets(
        tickets=[first, second], title="停车", description="多起停车投诉", actor=board.secretary
    )
    assert topic.node == board.community and set(topic.source_tickets.all()) == {first, second}
    same_grid = deliberation.topic_from_tickets(
        tickets=[first, loop.ticket()], title="堆物", description="两起", actor=board.secretary
    )
    assert same_grid.node == loop.building_a


LIST_ROUTES = ["demands", "resources", "projects", "claims", "topics", "registrations"]


@pytest.mark.django_db
def test_every_list_is_scoped_to_the_callers_community(board, api_client):
    demand = board.demand()
    lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary)
    lists.resource_offer(community=board.community, unit=board.unit, kind="venue", title="会议室", quantity=2)
    lists.project_create(node=board.community, title="项目", owner_name="社区")
    deliberation.topic_create(node=board.community, title="议题", description="说明", origin="staff")
    api_client.force_authenticate(board.secretary)
    for route in LIST_ROUTES:
        assert api_client.get(f"/api/v1/{route}/").json()["count"] > 0, route
    api_client.force_authenticate(board.demo.user("c002_secretary"))
    for route in LIST_ROUTES:
        assert api_client.get(f"/api/v1/{route}/").json()["count"] == 0, route
    assert api_client.get(f"/api/v1/demands/{demand.pk}/").status_code == 404


@pytest.mark.django_db
def test_a_registered_member_claims_a_wish_as_themselves_on_the_phone(board, client, api_client):
    account = UserFactory(home_node=board.community, is_staff=False)
    board.member.user = account
    board.member.save(update_fields=["user"])
    wish = board.demand(is_micro_wish=True, title="想要一台收音机", kind="goods")
    client.force_login(account)
    assert client.get("/m/wishes/").status_code == 403  # not registered yet: no role anywhere
    registration = lists.registration_request(community=board.community, member=board.member)
    lists.registration_decide(registration=registration, accept=True, actor=board.secretary)
    page = client.get("/m/wishes/")
    assert wish in list(page.context["wishes"])
    key = page.context["form"].initial["idempotency_key"]
    client.post("/m/wishes/", {"demand": wish.pk, "idempotency_key": key})
    client.post("/m/wishes/", {"demand": wish.pk, "idempotency_key": key})  # sent twice
    claims = Claim.objects.filter(demand=wish)
    assert [(c.member, c.status) for c in claims] == [(board.member, ClaimStatus.CLAIMED)]
    api_client.force_authenticate(account)
    other = board.demand(is_micro_wish=True, title="老花镜", kind="goods")
    refused = api_client.post("/api/v1/claims/", {"demand": other.pk, "unit": board.unit.pk}, format="json")
    assert refused.status_code == 400 and "member" in refused.json()


@pytest.mark.django_db
def test_the_public_wish_wall_shows_wishes_and_praise_without_personal_data(board, client):
    from tests.residents.conftest import Register

    register = Register(board.demo)
    wish = board.demand(
        is_micro_wish=True, title="想要一个助行器", kind="goods", beneficiary_resident=register.elder
    )
    done = board.demand(is_micro_wish=True, title="想学用微信视频", kind="care")
    lists.claim_fulfil(
        claim=lists.claim_create(demand=done, unit=board.unit, actor=board.secretary),
        rating=5,
        feedback="学会了",
    )
    page = client.get(f"/w/{board.community.code}/").content.decode()
    assert wish.title in page and "测试物业公司" in page and "学会了" in page
    assert register.elder.name not in page
    assert client.get(f"/w/{board.demo.grid_a.code}/").status_code == 404


@pytest.mark.django_db
def test_list_endpoints_have_a_fixed_query_count(board, api_client):
    api_client.force_login(board.secretary)

    def count(route):
        with CaptureQueriesContext(connection) as context:
            assert api_client.get(f"/api/v1/{route}/", {"page_size": 500}).status_code == 200
        return len(context.captured_queries)

    def add(index):
        demand = board.demand(title=f"需求{index}")
        lists.claim_create(demand=demand, unit=board.unit, actor=board.secretary)
        project = lists.project_create(node=board.community, title=f"项目{index}", owner_name="社区")
        lists.milestone_add(project=project, title="第一步")
        topic = deliberation.topic_create(
            node=board.community, title=f"议题{index}", description="d", origin="staff"
        )
        deliberation.option_add(topic=topic, title="方案")
        lists.resource_offer(
            community=board.community, unit=board.unit, kind="venue", title=f"场地{index}", quantity=1
        )

    add(0)  # one row of each first: an empty list skips the prefetch queries altogether
    before = {route: count(route) for route in LIST_ROUTES}
    for index in range(1, 16):
        add(index)
    after = {route: count(route) for route in LIST_ROUTES}
    assert after == before
    assert max(after.values()) <= 12


@pytest.mark.django_db
def test_the_demo_community_has_the_seed_figures(demo):
    from demands.demo import ensure_categories
    from demands.list_demo import build

    ensure_categories()
    build()
    beihai = demo.beihai
    collected = Demand.objects.filter(node__path__startswith=beihai.path)
    assert collected.count() == 114
    assert collected.filter(status=DemandStatus.FULFILLED).count() >= 90
    assert PartyOrganization.objects.filter(node__path__startswith=beihai.path).count() == 16


def test_a_record_can_point_only_at_records_the_caller_may_see(board, api_client):
    """A demand's beneficiary from another community, a booking for another community's
    project: the id is refused as if it did not exist."""
    from tests.residents.conftest import Register

    register = Register(board.demo)
    api_client.force_authenticate(board.secretary)
    values = {"node": board.building.pk, "title": "助浴", "kind": "care", "source": "visit"}
    far = api_client.post(
        "/api/v1/demands/", {**values, "beneficiary_resident": register.far.pk}, format="json"
    )
    assert far.status_code == 400 and "beneficiary_resident" in far.json(), far.json()
    near = api_client.post(
        "/api/v1/demands/", {**values, "beneficiary_resident": register.elder.pk}, format="json"
    )
    assert near.status_code == 201, near.json()


@pytest.mark.django_db
def test_a_member_gives_back_their_own_claim_on_the_phone_and_no_one_elses(board, client):
    account = UserFactory(home_node=board.community, is_staff=False)
    board.member.user = account
    board.member.save(update_fields=["user"])
    registration = lists.registration_request(community=board.community, member=board.member)
    lists.registration_decide(registration=registration, accept=True, actor=board.secretary)
    wish = board.demand(is_micro_wish=True, title="想要一台收音机", kind="goods")
    mine = lists.claim_create(demand=wish, member=board.member, actor=account)
    theirs = lists.claim_create(
        demand=board.demand(is_micro_wish=True, title="老花镜", kind="goods"),
        unit=board.unit,
        actor=board.secretary,
    )
    client.force_login(account)
    page = client.get("/m/wishes/")
    assert f'name="withdraw" value="{mine.pk}"' in page.content.decode()
    key = page.context["form"].initial["idempotency_key"]
    assert client.post("/m/wishes/", {"withdraw": theirs.pk, "idempotency_key": key}).status_code == 404
    assert client.post("/m/wishes/", {"withdraw": "abc", "idempotency_key": key}).status_code == 404
    client.post("/m/wishes/", {"withdraw": mine.pk, "idempotency_key": key})
    client.post("/m/wishes/", {"withdraw": mine.pk, "idempotency_key": key})  # sent twice
    assert Claim.objects.get(pk=mine.pk).status == ClaimStatus.WITHDRAWN
    assert Claim.objects.get(pk=theirs.pk).status == ClaimStatus.CLAIMED
    assert Demand.objects.get(pk=wish.pk).status == DemandStatus.OPEN

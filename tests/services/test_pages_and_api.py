import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services import services
from services.demo import ensure_kinds

pytestmark = pytest.mark.django_db

ROUTES = ["service-events", "visits", "programs", "points", "assessments"]


def _populate(register):
    kinds = ensure_kinds()
    beihai = register.demo.beihai
    start = timezone.now() - datetime.timedelta(days=2)
    volunteer = register.demo.user("bhxc_volunteer")
    for index in range(3):
        event = services.event_create(
            node=beihai,
            kind=kinds["volunteer"],
            title=f"志愿服务{index}",
            organizer_kind="community",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=2),
        )
        services.sign_in(event=event, role="volunteer", user=volunteer)
        services.award_points(event=event, actor=None)
    services.visit_record(household=register.home_a, visitor=register.demo.user("bhxc_g1_a"), findings="正常")
    services.programme_create(node=beihai, name="孝善食堂", benefit="85折", rule={"age_min": 70})
    from services.assessment import assessment_compute

    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    assessment_compute(street=register.demo.street, month=last_month)


def test_every_services_list_is_scoped(register, api_client):
    _populate(register)
    api_client.force_authenticate(register.demo.user("bhxc_secretary"))
    for route in ROUTES:
        assert api_client.get(f"/api/v1/{route}/").json()["count"] > 0, route
    api_client.force_authenticate(register.demo.user("c002_secretary"))
    for route in ROUTES[:-1]:
        assert api_client.get(f"/api/v1/{route}/").json()["count"] == 0, route
    # The competition ranks every grid of the street; another community sees its own grids only.
    rows = api_client.get("/api/v1/assessments/").json()["results"]
    own = {g.pk for g in register.demo.other_community.child_nodes.all()}
    assert rows and {row["grid"] for row in rows} <= own
    api_client.force_authenticate(register.demo.user("bhxc_g1_b"))
    assert api_client.get("/api/v1/visits/").json()["count"] == 1  # grid A's visit, seen by grid A's B post
    api_client.force_authenticate(register.demo.user("bhxc_g2_a"))
    assert api_client.get("/api/v1/visits/").json()["count"] == 0
    assert api_client.get("/api/v1/visits/due/").json() == [
        row for row in api_client.get("/api/v1/visits/due/").json() if row["household"] != register.home_a.pk
    ]


def test_services_lists_have_a_fixed_query_count(register, api_client):
    _populate(register)
    api_client.force_login(register.demo.user("bhxc_secretary"))

    def count(route):
        with CaptureQueriesContext(connection) as context:
            assert api_client.get(f"/api/v1/{route}/", {"page_size": 500}).status_code == 200
        return len(context.captured_queries)

    before = {route: count(route) for route in ROUTES}
    _populate(register)  # a second set of events, visits and programmes
    assert {route: count(route) for route in ROUTES} == before
    assert max(before.values()) <= 10


def test_the_phone_shows_visits_due_and_records_one(register, client):
    worker = register.demo.user("bhxc_g1_a")
    client.force_login(worker)
    due = client.get("/m/visits/")
    assert register.home_a in due.context["households"] and register.home_b not in due.context["households"]
    assert client.get(f"/m/visits/{register.home_b.pk}/new/").status_code == 404
    page = client.get(f"/m/visits/{register.home_a.pk}/new/")
    key = page.context["form"].initial["idempotency_key"]
    data = {"idempotency_key": key, "findings": "老人身体不错", "colour": "yellow"}
    client.post(f"/m/visits/{register.home_a.pk}/new/", data)
    client.post(f"/m/visits/{register.home_a.pk}/new/", data)  # sent twice
    assert register.home_a.visits.count() == 1
    assert register.home_a not in client.get("/m/visits/").context["households"]
    bad = client.post(
        f"/m/visits/{register.home_a.pk}/new/",
        {"idempotency_key": "another-key-123", "findings": "", "colour": "red"},
    )
    assert bad.status_code == 200 and "findings" in bad.context["form"].errors


def test_the_demo_has_the_seed_service_figures(demo):
    from demands.demo import ensure_categories
    from residents.demo import build as build_residents
    from services.demo import build
    from services.models import Participation, ServiceEvent

    ensure_categories()
    build_residents()
    build()
    beihai = demo.beihai
    co_building = ServiceEvent.objects.filter(node__path__startswith=beihai.path, kind__code="co_building")
    assert co_building.count() == 67
    assert Participation.objects.filter(event__in=co_building).count() == 430


def test_the_organizer_ticks_who_came_with_their_roles_once(register, client):
    kinds = ensure_kinds()
    start = timezone.now()
    event = services.event_create(
        node=register.demo.beihai,
        kind=kinds["volunteer"],
        title="楼道清理",
        organizer_kind="community",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
    )
    worker, volunteer = register.demo.user("bhxc_g1_b"), register.demo.user("bhxc_volunteer")
    client.force_login(register.demo.user("bhxc_g1_a"))  # a grid worker: the community's event is not theirs
    assert client.get(f"/m/events/{event.pk}/").status_code == 404
    client.force_login(register.demo.user("bhxc_staff"))
    page = client.get(f"/m/events/{event.pk}/")
    key = page.context["form"].initial["idempotency_key"]
    data = {"idempotency_key": key, "participants": [worker.pk, volunteer.pk], "extra_name": "热心居民"}
    client.post(f"/m/events/{event.pk}/", data)
    client.post(f"/m/events/{event.pk}/", data)  # sent twice
    roles = {p.name: p.role for p in event.participations.all()}
    assert roles == {str(worker): "grid_worker", str(volunteer): "volunteer", "热心居民": "volunteer"}
    refused = client.post(
        f"/m/events/{event.pk}/", {"idempotency_key": "other-key-1234", "participants": [999999]}
    )
    assert refused.status_code == 200, refused.status_code
    assert "participants" in refused.context["form"].errors
    client.force_login(register.demo.user("c002_secretary"))
    assert client.get(f"/m/events/{event.pk}/").status_code == 404


def test_the_tick_list_puts_the_events_own_place_first_and_says_who_is_left_out(
    register, client, monkeypatch
):
    from grid.models import User
    from services import views

    kinds = ensure_kinds()
    start = timezone.now()
    event = services.event_create(
        node=register.demo.grid_a,
        kind=kinds["volunteer"],
        title="网格巡查",
        organizer_kind="community",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=1),
    )
    client.force_login(register.demo.user("bhxc_staff"))
    everyone = client.get(f"/m/events/{event.pk}/").context["form"].fields["participants"].choices
    own = {str(u) for u in User.objects.filter(assignments__node__path__startswith=register.demo.grid_a.path)}
    assert {label for _pk, label in everyone[: len(own)]} == own  # grid A's people first
    monkeypatch.setattr(views, "CANDIDATES_SHOWN", 3)  # a community larger than the page
    page = client.get(f"/m/events/{event.pk}/")
    assert len(page.context["form"].fields["participants"].choices) == 3
    assert page.context["more"] == len(everyone) - 3 and "扫码" in page.content.decode()

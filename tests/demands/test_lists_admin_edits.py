"""Editing lists in the admin: edits to milestones are kept, and states the services guard are
guarded here too."""

import pytest

from demands import lists
from demands.models import Demand, Milestone, Project
from grid.errors import ConflictError
from tests.demands.test_lists import Lists
from tests.grid.adminform import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo):
    return Lists(demo)


def test_milestone_edits_in_the_admin_are_kept_and_weigh_into_the_progress(board, client):
    project = lists.project_create(node=board.community, title="孝善食堂", owner_name="三利快餐")
    done = lists.milestone_add(project=project, title="装修", weight=1)
    lists.milestone_add(project=project, title="试运营", weight=1)
    lists.milestone_progress(milestone=done, progress=100)
    assert Project.objects.get(pk=project.pk).progress == 50
    client.force_login(board.secretary)
    url = f"/admin/demands/project/{project.pk}/change/"
    data = form_data(client.get(url))
    key = next(k for k, v in data.items() if k.endswith("-title") and v == "装修")
    prefix = key[: -len("title")]
    data[f"{prefix}title"], data[f"{prefix}weight"] = "店面装修", "3"
    assert client.post(url, data).status_code == 302
    assert Milestone.objects.get(pk=done.pk).title == "店面装修"
    assert Project.objects.get(pk=project.pk).progress == 75  # (100 × 3 + 0 × 1) / 4


def test_a_project_ends_with_its_record_fixed_and_not_under_a_claimant(board, api_client):
    project = lists.project_create(node=board.community, title="孝善食堂", owner_name="三利快餐")
    milestone = lists.milestone_add(project=project, title="装修")
    claim = lists.claim_create(project=project, unit=board.unit, actor=board.secretary)
    with pytest.raises(ConflictError) as claimed:
        lists.project_move(project=project, action="cancel")
    assert claimed.value.code == "claimed"
    lists.claim_withdraw(claim=claim)
    lists.milestone_progress(milestone=milestone, progress=100)
    lists.project_move(project=project, action="start")
    lists.project_move(project=project, action="complete")
    api_client.force_authenticate(board.secretary)
    url = f"/api/v1/projects/{project.pk}/milestones/"
    assert api_client.post(url, {"id": milestone.pk, "progress": 10}, format="json").status_code == 409
    assert api_client.post(url, {"title": "补充"}, format="json").status_code == 409
    assert Project.objects.get(pk=project.pk).progress == 100


def test_a_demand_worked_on_by_two_is_not_made_single_claimant_under_them(board, client):
    demand = board.demand(allows_multiple_claims=True)
    for unit in (board.unit, board.other_unit):
        lists.claim_create(demand=demand, unit=unit, actor=board.secretary)
    client.force_login(board.secretary)
    url = f"/admin/demands/demand/{demand.pk}/change/"
    data = form_data(client.get(url))
    data.pop("allows_multiple_claims", None)  # unticked
    page = client.post(url, data)
    assert page.status_code == 200 and "allows_multiple_claims" in page.context["adminform"].form.errors
    assert Demand.objects.get(pk=demand.pk).allows_multiple_claims


def test_a_booking_no_longer_needed_is_released_through_the_api_or_the_admin(board, api_client, client):
    from demands.models import Resource, ResourceBooking

    chairs = lists.resource_offer(
        community=board.community, unit=board.unit, kind="goods", title="轮椅", quantity=2
    )
    first, second = (
        lists.resource_book(resource=chairs, quantity=1, purpose=purpose, actor=board.secretary)
        for purpose in ("王奶奶出行", "李大爷复诊")
    )
    other = lists.resource_offer(
        community=board.community, unit=board.unit, kind="venue", title="会议室", quantity=1
    )
    url = f"/api/v1/resources/{chairs.pk}/cancel-booking/"
    api_client.force_authenticate(board.demo.user("c002_secretary"))
    assert api_client.post(url, {"booking": first.pk}, format="json").status_code == 404
    api_client.force_authenticate(board.secretary)
    stranger = lists.resource_book(resource=other, quantity=1, purpose="开会", actor=board.secretary)
    assert api_client.post(url, {"booking": stranger.pk}, format="json").status_code == 400
    assert api_client.post(url, {"booking": "abc"}, format="json").status_code == 400
    released = api_client.post(url, {"booking": first.pk}, format="json")
    assert released.status_code == 200 and released.json()["status"] == "cancelled"
    assert api_client.post(url, {"booking": first.pk}, format="json").status_code == 409
    assert Resource.objects.get(pk=chairs.pk).remaining == 1
    client.force_login(board.secretary)
    client.post(
        "/admin/demands/resourcebooking/", {"action": "release", "_selected_action": [second.pk]}, follow=True
    )
    assert ResourceBooking.objects.get(pk=second.pk).status == "cancelled"
    assert Resource.objects.get(pk=chairs.pk).remaining == 2

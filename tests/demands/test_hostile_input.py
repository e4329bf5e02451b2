"""Input found by review to reach a 500 (or to store what cannot be read back): each is now a
clear refusal that writes nothing."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from demands import open311
from demands.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def hotline(loop):
    cache.clear()
    return open311.issue_key(name="12345热线", node=loop.demo.beihai, created_by=loop.secretary)[1]


@pytest.mark.parametrize("lat,lng", [("nan", "NaN"), ("inf", "1"), ("36.6", "-Infinity")])
def test_open311_refuses_coordinates_that_are_not_numbers(loop, client, hotline, lat, lng):
    answer = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": hotline,
            "service_code": "safety",
            "address_id": loop.building_a.code,
            "description": "井盖松动",
            "lat": lat,
            "long": lng,
        },
    )
    assert answer.status_code == 400
    assert answer.json()[0]["code"] == 400
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-01-01T00:00:00"},  # no offset: China time
        {"start_date": "2026-02-30T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00+21:54"},
        {"start_date": "0001-01-01T00:00:00Z"},
        {"service_request_id": "²,3"},
    ],
)
def test_open311_search_parameters_never_fail(loop, client, hotline, params):
    loop.ticket()
    answer = client.get("/open311/v2/requests.json", {"api_key": hotline, **params})
    assert answer.status_code in (200, 400)
    json.loads(answer.content)  # a valid JSON body either way


def test_a_date_without_offset_is_read_as_china_time(loop, client, hotline):
    """A minute before the ticket, in China time: read as UTC it would lie eight hours later."""
    ticket = loop.ticket()
    before = timezone.localtime(ticket.created_at) - datetime.timedelta(minutes=1)
    answer = client.get(
        "/open311/v2/requests.json", {"api_key": hotline, "start_date": before.strftime("%Y-%m-%dT%H:%M:%S")}
    )
    assert [row["service_request_id"] for row in answer.json()] == [str(ticket.pk)]


@pytest.mark.parametrize(
    "path", ["/t/%00/", "/r/%00/", "/w/%00/", "/e/%00/", "/open311/v2/requests.json?service_code=a%00b"]
)
def test_a_nul_character_is_a_400(loop, client, path):
    client.force_login(loop.staff)
    assert client.get(path).status_code == 400
    assert client.post(path.split("?")[0], {"description": "a\x00b"}).status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("path", ["/tickets/qr/?node=²", "/residents/tables/?node=²"])
def test_unicode_digits_are_no_id(loop, client, path):
    client.force_login(loop.secretary)
    assert client.get(path).status_code == 404


def test_odd_ids_and_bodies_on_the_lists_are_refusals_not_500s(loop, client, api_client):
    from demands import lists
    from demands.models import Milestone

    project = lists.project_create(node=loop.demo.beihai, title="孝善食堂", owner_name="三利快餐")
    milestone = lists.milestone_add(project=project, title="装修")
    api_client.force_authenticate(loop.secretary)
    url = f"/api/v1/projects/{project.pk}/milestones/"
    for body in ({"id": "abc", "progress": 50}, {"id": "²", "progress": 50}, {"id": 10**20, "progress": 50}):
        answer = api_client.post(url, body, format="json")
        assert answer.status_code == 400 and "id" in answer.json(), body
    listed = api_client.post(url, [{"title": "试运营"}], format="json")
    assert listed.status_code == 400
    done = api_client.post(url, {"id": milestone.pk, "progress": 50}, format="json")
    assert done.status_code == 200 and Milestone.objects.get(pk=milestone.pk).progress == 50
    assert Milestone.objects.filter(project=project).count() == 1
    client.force_login(loop.secretary)
    assert client.post("/m/wishes/", {"demand": "abc"}).status_code == 404
    assert client.get("/admin/demands/claim/abc/history/").status_code == 404

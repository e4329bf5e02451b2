"""Open311 GeoReport v2: field names and formats as the published spec has them."""

import pytest
from django.core.cache import cache

from demands import open311, services
from demands.models import Ticket

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}


@pytest.fixture
def hotline(loop):
    cache.clear()
    client, key = open311.issue_key(name="12345热线", node=loop.demo.beihai, created_by=loop.secretary)
    return client, key


def test_discovery_and_services(loop, client):
    discovery = client.get("/open311/v2/discovery.json").json()
    assert discovery["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert discovery["endpoints"][0]["url"].endswith("/open311/v2/")
    services_list = client.get("/open311/v2/services.json").json()
    safety = next(s for s in services_list if s["service_code"] == "safety")
    assert set(safety) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert (safety["metadata"], safety["type"], safety["service_name"]) == (False, "realtime", "安全隐患")
    assert client.get("/open311/v2/services/safety.json").json() == {
        "service_code": "safety",
        "attributes": [],
    }
    assert client.get("/open311/v2/services/nope.json").status_code == 404
    assert client.get("/open311/v2/services.xml").status_code == 400


def test_post_with_a_key_files_a_ticket_in_the_clients_area(loop, client, hotline):
    _api_client, key = hotline
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "safety",
            "address_id": loop.building_a.code,
            "description": "楼道堆放易燃物",
            "first_name": "先生",
            "last_name": "李",
            "phone": "13700001111",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    ticket = Ticket.objects.get(pk=int(body[0]["service_request_id"]))
    assert (ticket.source, ticket.node, ticket.reporter_name, ticket.assignee) == (
        "open311",
        loop.building_a,
        "李 先生",
        loop.worker_a,
    )


def test_lat_long_is_placed_at_the_nearest_building(loop, client, hotline):
    _api_client, key = hotline
    lng, lat = loop.building_a.geometry["coordinates"]
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": key,
            "service_code": "environment",
            "lat": str(lat),
            "long": str(lng),
            "description": "垃圾满溢",
        },
    )
    assert response.status_code == 201
    ticket = Ticket.objects.get(pk=int(response.json()[0]["service_request_id"]))
    assert ticket.node == loop.building_a and ticket.latitude == pytest.approx(lat)


@pytest.mark.parametrize(
    ("key", "data", "status"),
    [
        ("none", {"service_code": "safety", "address_id": "370105005001-B001", "description": "d"}, 400),
        ("wrong", {"service_code": "safety", "address_id": "370105005001-B001", "description": "d"}, 403),
        ("valid", {"service_code": "nope", "address_id": "370105005001-B001", "description": "d"}, 400),
        ("valid", {"service_code": "safety", "address_id": "370105005001-B001", "description": ""}, 400),
        ("valid", {"service_code": "safety", "address_id": "370105005002-B001", "description": "d"}, 400),
        ("valid", {"service_code": "safety", "lat": "10", "long": "10", "description": "d"}, 400),
        ("valid", {"service_code": "safety", "description": "d"}, 400),
    ],
    ids=[
        "no key",
        "wrong key",
        "unknown service",
        "no description",
        "other community",
        "far away",
        "no place",
    ],
)
def test_bad_posts_are_refused_with_open311_errors(loop, client, hotline, key, data, status):
    _api_client, valid_key = hotline
    if key == "valid":
        data = {"api_key": valid_key, **data}
    elif key == "wrong":
        data = {"api_key": "o311_wrong", **data}
    response = client.post("/open311/v2/requests.json", data)
    assert response.status_code == status
    error = response.json()[0]
    assert set(error) == {"code", "description"} and error["code"] == status
    assert not Ticket.objects.exists()


def test_a_revoked_key_is_refused(loop, client, hotline):
    api_client, key = hotline
    open311.revoke_key(client=api_client)
    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": "safety", "address_id": loop.building_a.code, "description": "d"},
    )
    assert response.status_code == 403


def test_get_requests_lists_the_clients_area_with_spec_fields(loop, client, hotline):
    _api_client, key = hotline
    mine = loop.ticket()
    services.ticket_resolve(
        ticket=services.ticket_accept(ticket=mine, actor=loop.worker_a), actor=loop.worker_a, note="已处理"
    )
    services.ticket_close(ticket=mine, actor=loop.secretary)
    open_one = loop.ticket(node=loop.building_b)
    elsewhere = loop.ticket(node=loop.demo.node("370105005002-B001"))
    rows = client.get("/open311/v2/requests.json", {"api_key": key}).json()
    assert {int(r["service_request_id"]) for r in rows} == {mine.pk, open_one.pk}
    assert elsewhere.pk not in {int(r["service_request_id"]) for r in rows}
    row = next(r for r in rows if int(r["service_request_id"]) == mine.pk)
    assert set(row) == REQUEST_FIELDS
    assert (row["status"], row["service_code"], row["address_id"]) == (
        "closed",
        "environment",
        loop.building_a.code,
    )
    assert row["requested_datetime"].endswith("+08:00")
    assert row["agency_responsible"] == loop.demo.grid_a.name
    closed = client.get("/open311/v2/requests.json", {"api_key": key, "status": "closed"}).json()
    assert [int(r["service_request_id"]) for r in closed] == [mine.pk]
    by_id = client.get(f"/open311/v2/requests/{open_one.pk}.json", {"api_key": key}).json()
    assert by_id[0]["status"] == "open"
    assert client.get(f"/open311/v2/requests/{elsewhere.pk}.json", {"api_key": key}).status_code == 404
    assert client.get("/open311/v2/requests.json").status_code == 403
    assert (
        client.get("/open311/v2/requests.json", {"api_key": key, "start_date": "yesterday"}).status_code
        == 400
    )


def test_status_notes_say_what_was_done_not_the_staffs_trail(loop, client, hotline):
    _client, key = hotline
    ticket = loop.ticket()
    services.ticket_accept(ticket=ticket, actor=ticket.assignee)
    services.ticket_resolve(ticket=ticket, actor=ticket.assignee, note="杂物已清理")
    services.phone_reveal(ticket=Ticket.objects.get(pk=ticket.pk), actor=loop.staff)
    row = client.get(f"/open311/v2/requests/{ticket.pk}.json", {"api_key": key}).json()[0]
    assert row["status_notes"] == "杂物已清理"

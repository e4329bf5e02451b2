import pytest

from grid.models import Assignment, GridNode, PartyOrganization
from tests.grid.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_from_username_and_password_authenticates_the_api(demo, api_client):
    user = demo.user("bhxc_secretary")
    user.set_password("s3cret-pass-word")
    user.save()
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "bhxc_secretary", "password": "s3cret-pass-word"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/nodes/").json()["count"] > 100
    api_client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert api_client.get("/api/v1/nodes/").status_code == 401
    api_client.credentials()
    bad = api_client.post(
        "/api/v1/auth/token/", {"username": "bhxc_secretary", "password": "nope"}, format="json"
    )
    assert bad.status_code == 400


def test_list_is_paginated_and_filterable_by_level_and_text(demo, api_client):
    api_client.force_authenticate(demo.user("wys_leader"))
    body = api_client.get("/api/v1/nodes/", {"level": "community"}).json()
    assert body["count"] == 5
    assert {row["level"] for row in body["results"]} == {"community"}
    body = api_client.get("/api/v1/nodes/", {"q": "北海新城第2"}).json()
    assert [row["code"] for row in body["results"]] == ["370105005001-G02"]
    body = api_client.get("/api/v1/nodes/", {"page_size": 10}).json()
    assert len(body["results"]) == 10 and body["next"]
    children = api_client.get("/api/v1/nodes/", {"parent": demo.beihai.pk}).json()
    assert {row["parent"] for row in children["results"]} == {demo.beihai.pk}


def test_bad_input_gets_field_errors_in_chinese_and_writes_nothing(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    before = GridNode.objects.count()
    response = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.grid_a.pk, "level": "community", "code": "bad code!", "name": ""},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    errors = response.json()
    assert {"code", "name"} <= set(errors)
    assert any("字母" in message for message in errors["code"])
    response = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.grid_a.pk, "level": "community", "code": "OK-CODE", "name": "倒挂社区"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert "层级" in " ".join(response.json()["level"])
    assert GridNode.objects.count() == before


def test_english_is_available(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    response = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.grid_a.pk, "level": "community", "code": "OK-CODE", "name": "x"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "lower level" in " ".join(response.json()["level"])


def test_deleting_a_node_with_history_archives_it(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    response = api_client.delete(f"/api/v1/nodes/{demo.grid_a.pk}/")
    assert response.status_code == 200
    assert response.json() == {"result": "archived"}
    assert GridNode.objects.get(pk=demo.grid_a.pk).archived_at is not None
    fresh = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.grid_b.pk, "level": "building", "code": "NEW-B", "name": "新楼"},
        format="json",
    ).json()
    assert api_client.delete(f"/api/v1/nodes/{fresh['id']}/").status_code == 204
    assert not GridNode.objects.filter(code="NEW-B").exists()
    restored = api_client.post(f"/api/v1/nodes/{demo.grid_a.pk}/restore/")
    assert restored.status_code == 200 and restored.json()["is_archived"] is False


def test_moving_a_node_through_the_api_checks_levels(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    building = GridNode.objects.filter(path__startswith=demo.grid_a.path, level="building").first()
    response = api_client.patch(f"/api/v1/nodes/{building.pk}/", {"parent": demo.grid_b.pk}, format="json")
    assert response.status_code == 200
    assert GridNode.objects.get(pk=building.pk).path.startswith(demo.grid_b.path)
    response = api_client.patch(f"/api/v1/nodes/{demo.grid_b.pk}/", {"parent": building.pk}, format="json")
    assert response.status_code == 400


def test_assignment_rules_answer_400_and_end_revokes(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    newcomer = UserFactory(home_node=demo.beihai)
    second_a = api_client.post(
        "/api/v1/assignments/",
        {"user": newcomer.pk, "node": demo.grid_a.pk, "role": "grid_worker", "is_primary": True},
        format="json",
    )
    assert second_a.status_code == 400
    assert "is_primary" in second_a.json()
    created = api_client.post(
        "/api/v1/assignments/",
        {"user": newcomer.pk, "node": demo.grid_a.pk, "role": "grid_worker"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assignment_id = created.json()["id"]
    promoted = api_client.post(f"/api/v1/assignments/{assignment_id}/make-primary/")
    assert promoted.status_code == 200 and promoted.json()["is_primary"] is True
    assert Assignment.objects.get(user__username="bhxc_g1_a").is_primary is False
    ended = api_client.post(f"/api/v1/assignments/{assignment_id}/end/", {}, format="json")
    assert ended.status_code == 200 and ended.json()["ended_on"]
    again = api_client.post(f"/api/v1/assignments/{assignment_id}/end/", {}, format="json")
    assert again.status_code == 400


def test_party_organization_create_and_level_refusal(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    committee = PartyOrganization.objects.get(node=demo.beihai, level="community_committee")
    ok = api_client.post(
        "/api/v1/party-organizations/",
        {
            "parent": committee.pk,
            "level": "station_branch",
            "name": "第二服务站党总支",
            "node": demo.beihai.pk,
        },
        format="json",
    )
    assert ok.status_code == 201, ok.content
    bad = api_client.post(
        "/api/v1/party-organizations/",
        {"parent": committee.pk, "level": "grid_branch", "name": "错位支部", "node": demo.beihai.pk},
        format="json",
    )
    assert bad.status_code == 400 and "node" in bad.json()


def test_units_api_validates_phone_and_community(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    payload = {
        "name": "新共建单位",
        "kind": "enterprise",
        "community": demo.beihai.pk,
        "contact_name": "李四",
        "contact_phone": "0531-88886666",
        "agreement_signed_on": "2025-01-01",
    }
    assert api_client.post("/api/v1/units/", payload, format="json").status_code == 201
    bad = api_client.post(
        "/api/v1/units/", {**payload, "name": "坏单位", "contact_phone": "110"}, format="json"
    )
    assert bad.status_code == 400 and "contact_phone" in bad.json()
    wrong_level = api_client.post(
        "/api/v1/units/", {**payload, "name": "错位单位", "community": demo.grid_a.pk}, format="json"
    )
    assert wrong_level.status_code == 400 and "community" in wrong_level.json()


def test_schema_and_docs_are_served(demo, client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for route in ("/api/v1/nodes/", "/api/v1/party-organizations/", "/api/v1/units/", "/api/v1/assignments/"):
        assert route in paths
    assert "/api/v1/auth/token/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/nodes/{id}/archive/" in target.read_text()

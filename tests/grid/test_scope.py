"""The one scope rule, seen from every door: admin, API list, API detail, filters and writes."""

import pytest
from django.urls import reverse

from grid.choices import NodeLevel, Role
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyOrganization
from grid.scope import scope_queryset
from tests.grid.factories import UserFactory, assign, make_unit

pytestmark = pytest.mark.django_db

API_LISTS = {
    "nodes": GridNode,
    "party-organizations": PartyOrganization,
    "units": CoBuildingUnit,
    "assignments": Assignment,
}


def _all_results(client, url, **params):
    ids, page = [], 1
    while True:
        response = client.get(url, {**params, "page": page, "page_size": 500})
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [row["id"] for row in body["results"]]
        if not body["next"]:
            return ids
        page += 1


def test_grid_worker_sees_only_their_grid_in_the_api(demo, api_client):
    worker = demo.user("bhxc_g1_a")
    api_client.force_authenticate(worker)
    node_ids = set(_all_results(api_client, "/api/v1/nodes/"))
    expected = set(GridNode.objects.filter(path__startswith=demo.grid_a.path).values_list("id", flat=True))
    assert node_ids == expected
    assert demo.grid_b.pk not in node_ids
    assert not GridNode.objects.filter(pk__in=node_ids).exclude(path__startswith=demo.grid_a.path).exists()


def test_grid_worker_gets_404_for_a_node_of_another_grid(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_g1_a"))
    grid_b_building = GridNode.objects.filter(
        path__startswith=demo.grid_b.path, level=NodeLevel.BUILDING
    ).first()
    for node in (demo.grid_b, grid_b_building, demo.beihai, demo.street):
        response = api_client.get(f"/api/v1/nodes/{node.pk}/")
        assert response.status_code == 404
        assert node.name not in response.content.decode()
    assert api_client.get(f"/api/v1/nodes/{demo.grid_a.pk}/").status_code == 200


def test_filtering_by_a_node_outside_scope_yields_nothing(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_g1_a"))
    for resource in API_LISTS:
        for node in (demo.grid_b, demo.beihai, demo.other_community):
            response = api_client.get(f"/api/v1/{resource}/", {"node": node.pk})
            assert response.status_code == 200
            body = response.json()
            if node == demo.beihai and resource == "nodes":
                # the community filter intersected with the worker's scope: grid A's subtree only
                assert {r["id"] for r in body["results"]} <= set(
                    GridNode.objects.filter(path__startswith=demo.grid_a.path).values_list("id", flat=True)
                )
            elif node != demo.beihai:
                assert body["count"] == 0, (resource, node)
    response = api_client.get("/api/v1/nodes/", {"q": demo.grid_b.name})
    assert response.json()["count"] == 0


def test_every_api_list_is_scoped_for_a_worker_of_another_grid(demo, api_client):
    """Whatever exists under grid B (or elsewhere), a worker of grid A is never shown it."""
    worker = demo.user("bhxc_g1_a")
    assign(demo.grid_b, Role.GRID_WORKER, user=UserFactory(home_node=demo.beihai))
    api_client.force_authenticate(worker)
    for resource, model in API_LISTS.items():
        ids = _all_results(api_client, f"/api/v1/{resource}/")
        visible = scope_queryset(model.objects.all(), worker)
        assert set(ids) == set(visible.values_list("id", flat=True)), resource
        field = model.SCOPE_NODE_FIELD
        prefix = f"{field}__path__startswith" if field else "path__startswith"
        assert not model.objects.filter(pk__in=ids).exclude(**{prefix: demo.grid_a.path}).exists(), resource


def test_user_with_no_assignment_sees_nothing_and_anonymous_is_refused(demo, api_client):
    nobody = UserFactory(home_node=None)
    api_client.force_authenticate(nobody)
    for resource in API_LISTS:
        response = api_client.get(f"/api/v1/{resource}/")
        assert response.status_code in (200, 403)
        if response.status_code == 200:
            assert response.json()["count"] == 0
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/nodes/").status_code in (401, 403)


def test_ended_assignment_no_longer_grants_scope(demo, api_client):
    from grid import services

    worker = demo.user("bhxc_g1_b")
    services.assignment_end(assignment=Assignment.objects.get(user=worker))
    api_client.force_authenticate(demo.user("bhxc_g1_b"))
    response = api_client.get("/api/v1/nodes/")
    assert response.status_code == 403 or response.json()["count"] == 0


def test_community_secretary_sees_the_whole_community_and_nothing_else(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    ids = set(_all_results(api_client, "/api/v1/nodes/"))
    community = set(GridNode.objects.filter(path__startswith=demo.beihai.path).values_list("id", flat=True))
    assert ids == community
    assert len(community) > 100
    units = _all_results(api_client, "/api/v1/units/")
    assert set(units) == set(
        CoBuildingUnit.objects.filter(community=demo.beihai).values_list("id", flat=True)
    )
    assert api_client.get(f"/api/v1/nodes/{demo.other_community.pk}/").status_code == 404


def test_street_leader_sees_every_community(demo, api_client):
    api_client.force_authenticate(demo.user("wys_leader"))
    assert api_client.get("/api/v1/nodes/").json()["count"] == GridNode.objects.count()


def test_secretary_cannot_write_into_another_community(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    foreign = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.other_community.pk, "level": "grid", "code": "X-FOREIGN", "name": "越界网格"},
        format="json",
    )
    assert foreign.status_code == 400
    assert "parent" in foreign.json()
    assert not GridNode.objects.filter(code="X-FOREIGN").exists()
    own = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.beihai.pk, "level": "grid", "code": "X-OWN", "name": "新网格"},
        format="json",
    )
    assert own.status_code == 201, own.content
    other_unit = make_unit(demo.other_community, name="别处单位")
    response = api_client.patch(f"/api/v1/units/{other_unit.pk}/", {"name": "改名"}, format="json")
    assert response.status_code == 404
    assert CoBuildingUnit.objects.get(pk=other_unit.pk).name == "别处单位"


def test_grid_worker_cannot_write_at_all(demo, api_client):
    api_client.force_authenticate(demo.user("bhxc_g1_a"))
    response = api_client.post(
        "/api/v1/nodes/",
        {"parent": demo.grid_a.pk, "level": "building", "code": "X-W", "name": "楼"},
        format="json",
    )
    assert response.status_code == 403
    assert (
        api_client.patch(f"/api/v1/nodes/{demo.grid_a.pk}/", {"name": "x"}, format="json").status_code == 403
    )
    assert GridNode.objects.get(pk=demo.grid_a.pk).name != "x"


# Admin -----------------------------------------------------------------------------------


def test_admin_node_list_of_a_grid_worker_holds_only_their_grid(demo, client):
    client.force_login(demo.user("bhxc_g1_a"))
    response = client.get(reverse("admin:grid_gridnode_changelist"), {"level__exact": "grid"})
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown == [demo.grid_a]
    everything = response.context["cl"].queryset
    assert not everything.exclude(path__startswith=demo.grid_a.path).exists()
    # and a search for grid B's name finds nothing
    response = client.get(reverse("admin:grid_gridnode_changelist"), {"q": demo.grid_b.name})
    assert list(response.context["cl"].result_list) == []


def test_admin_object_page_of_another_grid_is_not_shown(demo, client):
    client.force_login(demo.user("bhxc_g1_a"))
    response = client.get(reverse("admin:grid_gridnode_change", args=[demo.grid_b.pk]))
    assert response.status_code == 302  # the admin's "does not exist" redirect
    assert response.url == reverse("admin:index")
    response = client.get(reverse("admin:grid_gridnode_changelist"), {"subtree": demo.grid_b.pk})
    assert list(response.context["cl"].result_list) == []


def test_admin_lists_of_a_secretary_stay_in_their_community(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    for model in ("gridnode", "partyorganization", "partymembership", "cobuildingunit", "assignment", "user"):
        response = client.get(reverse(f"admin:grid_{model}_changelist"))
        assert response.status_code == 200, model
        queryset = response.context["cl"].queryset
        field = queryset.model.SCOPE_NODE_FIELD
        prefix = f"{field}__path__startswith" if field else "path__startswith"
        assert queryset.exists(), model
        assert not queryset.exclude(**{prefix: demo.beihai.path}).exists(), model


def test_admin_autocomplete_offers_only_nodes_in_scope(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "grid", "model_name": "gridnode", "field_name": "parent", "term": "网格"},
    )
    assert response.status_code == 200
    ids = [int(row["id"]) for row in response.json()["results"]]
    assert ids
    assert not GridNode.objects.filter(pk__in=ids).exclude(path__startswith=demo.beihai.path).exists()


def test_admin_refuses_a_parent_outside_scope_on_save(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    response = client.post(
        reverse("admin:grid_gridnode_add"),
        {"parent": demo.other_community.pk, "level": "grid", "code": "ADM-X", "name": "越界"},
    )
    assert response.status_code == 200  # the form again, with an error
    assert "parent" in response.context["adminform"].form.errors
    assert not GridNode.objects.filter(code="ADM-X").exists()

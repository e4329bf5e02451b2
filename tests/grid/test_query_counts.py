"""Lists cost a fixed number of queries whatever the size of the tree: no query per row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grid.choices import NodeLevel
from grid.models import GridNode

pytestmark = pytest.mark.django_db

# Session, user, the user's assignments, Django's own user and group permissions, then the page:
# a subtree lookup for a node filter, a count and one select (the admin adds its filter sidebar).
# None of it grows with the number of rows.
API_LIST_MAX_QUERIES = 9
ADMIN_LIST_MAX_QUERIES = 12


def _count(callable_) -> int:
    with CaptureQueriesContext(connection) as context:
        response = callable_()
        assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("username", ["admin", "wys_leader", "bhxc_secretary"])
def test_api_node_list_is_flat_over_a_deep_tree(demo, api_client, username, django_assert_max_num_queries):
    api_client.force_login(demo.user(username))  # a fresh user per request, as in production
    small = _count(lambda: api_client.get("/api/v1/nodes/", {"page_size": 5}))
    large = _count(lambda: api_client.get("/api/v1/nodes/", {"page_size": 500}))
    assert large == small
    with django_assert_max_num_queries(API_LIST_MAX_QUERIES):
        response = api_client.get("/api/v1/nodes/", {"page_size": 500, "node": demo.beihai.pk})
    assert len(response.json()["results"]) > 100


@pytest.mark.parametrize(
    "resource", ["nodes", "party-organizations", "party-memberships", "units", "assignments"]
)
def test_every_grid_api_list_has_a_fixed_query_count(
    demo, api_client, resource, django_assert_max_num_queries
):
    api_client.force_login(demo.user("wys_leader"))
    small = _count(lambda: api_client.get(f"/api/v1/{resource}/", {"page_size": 2}))
    large = _count(lambda: api_client.get(f"/api/v1/{resource}/", {"page_size": 500}))
    assert large == small, resource
    with django_assert_max_num_queries(API_LIST_MAX_QUERIES):
        api_client.get(f"/api/v1/{resource}/", {"page_size": 500})


@pytest.mark.parametrize("username", ["admin", "bhxc_secretary"])
def test_admin_node_list_is_flat_over_a_deep_tree(demo, client, username, django_assert_max_num_queries):
    client.force_login(demo.user(username))
    url = reverse("admin:grid_gridnode_changelist")
    few = _count(lambda: client.get(url, {"level__exact": NodeLevel.COMMUNITY}))
    many = _count(lambda: client.get(url))  # a full page of 100 rows from ~1,100 nodes
    assert many == few
    with django_assert_max_num_queries(ADMIN_LIST_MAX_QUERIES):
        response = client.get(url, {"subtree": demo.beihai.pk})
    assert len(response.context["cl"].result_list) == 100
    assert GridNode.objects.count() > 1000


@pytest.mark.parametrize(
    "model", ["partyorganization", "partymembership", "cobuildingunit", "assignment", "user"]
)
def test_other_admin_lists_have_a_fixed_query_count(demo, client, model, django_assert_max_num_queries):
    client.force_login(demo.user("admin"))
    url = reverse(f"admin:grid_{model}_changelist")
    with django_assert_max_num_queries(ADMIN_LIST_MAX_QUERIES):
        client.get(url)
    few = _count(lambda: client.get(url, {"q": "北海新城"}))
    many = _count(lambda: client.get(url))
    assert many == few, model

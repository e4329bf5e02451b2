"""What fuzzing the API found, each pinned by a plain test."""

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(demo, api_client):
    key = Token.objects.get_or_create(user=demo.user("bhxc_staff"))[0].key
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api_client


def test_options_on_topics_describes_the_route_instead_of_running_an_action(staff):
    """The topic action adding an option was a method named `options`, so every HTTP OPTIONS on a
    topic route ran it (and failed with a server error)."""
    response = staff.options("/api/v1/topics/")
    assert response.status_code == 200 and response.json()["name"]


@pytest.mark.parametrize("value", ["0705-04-10T15:27:05+21:54", "1899-12-31T23:59:59", "9999-12-31T23:59:59"])
def test_a_date_filter_out_of_range_is_a_clear_400(staff, value):
    response = staff.get("/api/v1/tickets/", {"created_after": value})
    assert response.status_code == 400
    assert "created_after" in response.json()


@pytest.mark.parametrize("offset", ["+14:00", "+21:54", "-23:00"])
def test_a_date_filter_with_any_offset_python_reads_works(staff, offset):
    """PostgreSQL refuses offsets beyond ±15:59: the value goes to it in UTC."""
    response = staff.get("/api/v1/tickets/", {"created_after": f"2026-04-10T15:27:05{offset}"})
    assert response.status_code == 200


def test_the_due_visits_list_is_the_plain_list_the_schema_now_says(staff):
    from drf_spectacular.generators import SchemaGenerator

    spec = SchemaGenerator().get_schema(request=None, public=True)
    due = spec["paths"]["/api/v1/visits/due/"]["get"]
    assert due["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"
    assert not [p for p in due.get("parameters", []) if p["name"] in ("page", "node")]
    assert isinstance(staff.get("/api/v1/visits/due/").json(), list)

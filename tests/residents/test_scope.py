"""A grid worker of grid A gets no resident of grid B: admin, API, mobile search, tables, export."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from residents.models import Household, Resident

pytestmark = pytest.mark.django_db


def test_api_lists_and_details_hold_only_grid_a(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    ids = {r["id"] for r in api_client.get("/api/v1/residents/", {"page_size": 500}).json()["results"]}
    assert ids == {register.elder.pk, register.young.pk}
    households = {h["id"] for h in api_client.get("/api/v1/households/").json()["results"]}
    assert households == {register.home_a.pk, register.home_a2.pk}
    for resident in (register.neighbour_b, register.far):
        assert api_client.get(f"/api/v1/residents/{resident.pk}/").status_code == 404
    assert api_client.get(f"/api/v1/households/{register.home_b.pk}/").status_code == 404
    by_name = api_client.get("/api/v1/residents/", {"q": "赵四"}).json()
    assert by_name["count"] == 0
    by_node = api_client.get("/api/v1/residents/", {"node": register.demo.grid_b.pk}).json()
    assert by_node["count"] == 0


def test_admin_lists_hold_only_grid_a(register, client):
    client.force_login(register.demo.user("bhxc_g1_a"))
    page = client.get(reverse("admin:residents_resident_changelist"))
    assert set(page.context["cl"].result_list) == {register.elder, register.young}
    assert (
        client.get(reverse("admin:residents_resident_change", args=[register.neighbour_b.pk])).status_code
        == 302
    )
    households = client.get(reverse("admin:residents_household_changelist"))
    assert set(households.context["cl"].result_list) == {register.home_a, register.home_a2}


def test_mobile_search_finds_only_my_grid(register, client):
    client.force_login(register.demo.user("bhxc_g1_a"))
    found = client.get(reverse("mobile-resident-search"), {"q": "王秀兰"})
    assert [r.pk for r in found.context["residents"]] == [register.elder.pk]
    assert client.get(reverse("mobile-resident-search"), {"q": "赵四"}).context["residents"] == []
    assert client.get(reverse("mobile-household", args=[register.home_b.pk])).status_code == 404


def test_mobile_search_by_room_and_phone_tail(register, client):
    client.force_login(register.demo.user("bhxc_g1_a"))
    by_room = client.get(reverse("mobile-resident-search"), {"q": "102"}).context["residents"]
    assert [r.pk for r in by_room] == [register.young.pk]
    by_phone = client.get(reverse("mobile-resident-search"), {"q": "5678"}).context["residents"]
    assert [r.pk for r in by_phone] == [register.elder.pk]
    card = client.get(reverse("mobile-household", args=[register.home_a.pk]))
    assert card.status_code == 200
    text = card.content.decode()
    assert "王秀兰" in text and "独居" in text and register.elder.id_number_masked in text


def test_situation_tables_and_export_stay_in_scope(register, client):
    client.force_login(register.demo.user("c002_secretary"))
    assert client.get(reverse("residents:tables"), {"node": register.demo.beihai.pk}).status_code == 404
    response = client.get(reverse("residents:export"))
    names = {
        row[3]
        for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True)
    }
    assert names == {"孙五"}
    client.force_login(register.demo.user("bhxc_g1_a"))  # no export right at all
    assert client.get(reverse("residents:export")).status_code == 403


def test_situation_api_refuses_a_node_outside_scope(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    ok = api_client.get("/api/v1/situation/population/", {"node": register.demo.grid_a.pk})
    assert ok.status_code == 200 and ok.json()["rows"][-1][0] in ("合计", "Total")
    assert (
        api_client.get("/api/v1/situation/population/", {"node": register.demo.grid_b.pk}).status_code == 404
    )


def test_writes_outside_scope_are_refused(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    response = api_client.post(
        "/api/v1/households/", {"node": register.unit_b.pk, "room": "999"}, format="json"
    )
    assert response.status_code == 400 and "node" in response.json()
    assert not Household.objects.filter(room="999").exists()
    response = api_client.patch(f"/api/v1/residents/{register.neighbour_b.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert Resident.objects.get(pk=register.neighbour_b.pk).name == "赵四"


def test_dialling_reveals_the_number_only_through_a_logged_redirect(register, client):
    from residents.models import AccessLog

    client.force_login(register.demo.user("bhxc_g1_a"))
    card = client.get(reverse("mobile-household", args=[register.home_a.pk])).content.decode()
    assert "13912345678" not in card and "139****5678" in card
    response = client.post(reverse("mobile-call", args=[register.elder.pk]))
    assert response.status_code == 302 and response["Location"] == "tel:13912345678"
    assert AccessLog.objects.filter(resident=register.elder, action="reveal_phone").count() == 1
    assert client.post(reverse("mobile-call", args=[register.neighbour_b.pk])).status_code == 404
    client.force_login(register.demo.user("bhxc_building_lead"))  # no right to full phone numbers
    assert client.post(reverse("mobile-call", args=[register.elder.pk])).status_code == 403

"""Masking everywhere, sensitive fields only for roles with the right, every reveal and view logged."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from grid import services as grid_services
from grid.choices import Role
from residents import identity
from residents.choices import AccessAction
from residents.models import AccessLog
from tests.grid.factories import UserFactory

pytestmark = pytest.mark.django_db


def _full_numbers(register):
    return [
        identity.decrypt(r.id_number_encrypted)
        for r in (register.elder, register.young, register.neighbour_b)
    ]


def test_api_masks_id_numbers_and_phones(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_secretary"))
    response = api_client.get("/api/v1/residents/", {"page_size": 500})
    body = response.content.decode()
    for number in _full_numbers(register):
        assert number not in body
    row = next(r for r in response.json()["results"] if r["id"] == register.elder.pk)
    assert row["id_number_masked"].count("*") == 10
    assert row["phone_masked"] == "139****5678"
    assert "13912345678" not in body and "id_number" not in row and "phone" not in row


def test_role_without_the_right_never_receives_sensitive_fields(register, api_client):
    lead = register.demo.user("bhxc_building_lead")  # building 1 of grid A holds household A
    api_client.force_authenticate(lead)
    row = api_client.get(f"/api/v1/residents/{register.elder.pk}/").json()
    assert "health_notes" not in row
    assert [tag["kind"] for tag in row["care_tags"]] == ["living_alone"]
    assert not AccessLog.objects.exists()
    assert api_client.get("/api/v1/residents/", {"tag": "disabled"}).json()["count"] == 0


def test_caseworker_sees_sensitive_fields_and_the_view_is_logged(register, api_client):
    worker = register.demo.user("bhxc_g1_a")
    api_client.force_authenticate(worker)
    row = api_client.get(f"/api/v1/residents/{register.elder.pk}/").json()
    assert row["health_notes"] == "高血压，需定期量血压"
    assert {tag["kind"] for tag in row["care_tags"]} == {"living_alone", "disabled"}
    log = AccessLog.objects.get()
    assert (log.user, log.resident, log.action) == (worker, register.elder, AccessAction.VIEW_SENSITIVE)
    api_client.get("/api/v1/residents/", {"page_size": 100})
    assert AccessLog.objects.count() == 2  # the list shows the same resident's tags again
    assert api_client.get("/api/v1/residents/", {"tag": "disabled"}).json()["count"] == 1


def test_reveal_is_for_allowed_roles_only_and_always_logged(register, api_client):
    number = identity.decrypt(register.elder.id_number_encrypted)
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    refused = api_client.post(
        f"/api/v1/residents/{register.elder.pk}/reveal/", {"field": "id_number"}, format="json"
    )
    assert refused.status_code == 403 and number not in refused.content.decode()
    phone = api_client.post(
        f"/api/v1/residents/{register.elder.pk}/reveal/", {"field": "phone"}, format="json"
    )
    assert phone.json() == {"field": "phone", "value": "13912345678"}
    secretary = register.demo.user("bhxc_secretary")
    api_client.force_authenticate(secretary)
    revealed = api_client.post(
        f"/api/v1/residents/{register.elder.pk}/reveal/", {"field": "id_number"}, format="json"
    )
    assert revealed.json()["value"] == number
    assert list(AccessLog.objects.order_by("at", "id").values_list("user__username", "action")) == [
        ("bhxc_g1_a", AccessAction.REVEAL_PHONE),
        ("bhxc_secretary", AccessAction.REVEAL_ID),
    ]


def test_admin_list_masks_and_hides_sensitive_tags_from_a_building_lead(register, client):
    client.force_login(register.demo.user("bhxc_building_lead"))
    page = client.get(reverse("admin:residents_resident_changelist")).content.decode()
    assert register.elder.id_number_masked in page
    for number in _full_numbers(register):
        assert number not in page
    assert "13912345678" not in page and "139****5678" in page
    assert "独居" in page and "残疾" not in page
    change = client.get(reverse("admin:residents_resident_change", args=[register.elder.pk])).content.decode()
    assert "高血压" not in change
    assert "<p>独居</p>" in change and "<p>残疾</p>" not in change  # the tag rows, read-only
    assert not AccessLog.objects.exists()


def test_admin_reveal_logs_and_shows_the_number_once(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    url = reverse("admin:residents_resident_reveal", args=[register.elder.pk, "id_number"])
    page = client.post(url, follow=True).content.decode()
    assert identity.decrypt(register.elder.id_number_encrypted) in page
    assert AccessLog.objects.filter(action=AccessAction.REVEAL_ID).count() == 1
    client.force_login(register.demo.user("bhxc_g1_a"))
    assert client.post(url).status_code == 403


def test_export_is_masked_and_logs_sensitive_rows(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    response = client.get(reverse("residents:export"), {"node": register.demo.beihai.pk})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)
    for number in _full_numbers(register)[:2]:
        assert number not in cells
    assert register.elder.id_number_masked in cells and "139****5678" in cells
    assert "残疾(2级)" in cells
    assert AccessLog.objects.filter(action=AccessAction.EXPORT, resident=register.elder).exists()


def test_export_for_a_role_without_sensitive_rights_leaves_sensitive_tags_out(register, client):
    street_leader = register.demo.user("wys_leader")
    client.force_login(street_leader)
    response = client.get(reverse("residents:export"), {"node": register.demo.beihai.pk})
    cells = " ".join(
        str(c)
        for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
        for c in row
        if c
    )
    assert "独居" in cells and "残疾" not in cells and "低保" not in cells


def test_a_new_caseworker_role_gets_the_right_only_in_their_grid(register, api_client):
    outsider = UserFactory(home_node=register.demo.beihai)
    grid_services.assignment_create(user=outsider, node=register.demo.grid_b, role=Role.GRID_WORKER)
    api_client.force_authenticate(outsider)
    assert api_client.get(f"/api/v1/residents/{register.elder.pk}/").status_code == 404
    row = api_client.get(f"/api/v1/residents/{register.neighbour_b.pk}/").json()
    assert [t["kind"] for t in row["care_tags"]] == ["low_income"]


def test_exported_text_that_looks_like_a_formula_stays_text(register, client):
    from residents.models import Resident

    Resident.objects.filter(pk=register.elder.pk).update(notes='=HYPERLINK("http://x.example/","看")')
    client.force_login(register.demo.user("bhxc_secretary"))
    response = client.get(reverse("residents:export"), {"node": register.demo.beihai.pk})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cell = next(c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"


def test_an_empty_id_number_in_an_update_keeps_the_stored_one(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    before = register.elder.id_number_hash
    answer = api_client.patch(f"/api/v1/residents/{register.elder.pk}/", {"id_number": ""}, format="json")
    assert answer.status_code == 200
    register.elder.refresh_from_db()
    assert register.elder.id_number_hash == before and register.elder.id_number_masked


def test_a_duplicate_id_number_names_nobody(register, api_client):
    api_client.force_authenticate(register.demo.user("bhxc_g1_a"))
    answer = api_client.post(
        "/api/v1/residents/",
        {
            "household": register.home_a.pk,
            "name": "重复",
            "relation": "other",
            "id_number": identity.decrypt(register.far.id_number_encrypted),
        },
        format="json",
    )
    assert answer.status_code == 400
    text = str(answer.json())
    assert "已登记" in text and "孙五" not in text and "301" not in text


def test_a_revealed_number_never_travels_in_a_cookie(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    url = reverse("admin:residents_resident_reveal", args=[register.elder.pk, "id_number"])
    answer = client.post(url)
    number = identity.decrypt(register.elder.id_number_encrypted)
    # The default cookie storage would carry it signed and compressed, but readable by anyone.
    assert not (answer.cookies.get("messages") and answer.cookies["messages"].value)
    page = client.get(answer["Location"])
    assert number in page.content.decode()  # shown once, on the page

"""A search or a filter never tells more than the masked figures show.

Matching a longer phone tail, a whole ID number or a hidden field lets a role without the right read
the hidden value one yes/no answer at a time; these tests are those attacks, run by a building lead
(view rights only, on the building holding 王秀兰, phone 13912345678, health notes 高血压…).
"""

import pytest
from django.urls import reverse

from residents import identity
from residents.models import AccessLog

pytestmark = pytest.mark.django_db


def _api_ids(api_client, q):
    return {row["id"] for row in api_client.get("/api/v1/residents/", {"q": q}).json()["results"]}


def _mobile_ids(client, q):
    return {r.pk for r in client.get(reverse("mobile-resident-search"), {"q": q}).context["residents"]}


def _admin_ids(client, params):
    page = client.get(reverse("admin:residents_resident_changelist"), params)
    assert page.status_code == 200
    return {r.pk for r in page.context["cl"].result_list}


def test_a_role_without_reveal_rights_finds_by_the_four_digits_shown_only(register, client, api_client):
    lead = register.demo.user("bhxc_building_lead")
    api_client.force_authenticate(lead)
    client.force_login(lead)
    elder = register.elder.pk
    full_id = identity.decrypt(register.elder.id_number_encrypted)
    for search in (lambda q: _api_ids(api_client, q), lambda q: _mobile_ids(client, q)):
        assert elder in search("5678")  # the tail shown: 139****5678
        assert elder in search(full_id[-4:])  # the tail shown of the ID number
        for hidden in ("45678", "12345678", "13912345678", full_id, full_id[-8:]):
            assert elder not in search(hidden), hidden
    assert elder in _admin_ids(client, {"q": "5678"})
    for hidden in ("91234", "13912345678", full_id):
        assert elder not in _admin_ids(client, {"q": hidden}), hidden


def test_whole_numbers_find_where_the_role_may_use_them(register, api_client):
    full_id = identity.decrypt(register.elder.id_number_encrypted)
    worker = register.demo.user("bhxc_g1_a")  # grid A: registers residents, may call them
    api_client.force_authenticate(worker)
    assert _api_ids(api_client, "139 1234 5678") == {register.elder.pk}
    assert _api_ids(api_client, full_id) == {register.elder.pk}
    assert _api_ids(api_client, "12345678") == set()  # a longer tail is no whole number
    leader = register.demo.user("wys_leader")  # the whole street, to view only
    api_client.force_authenticate(leader)
    assert register.elder.pk not in _api_ids(api_client, "13912345678")
    assert register.elder.pk not in _api_ids(api_client, full_id)


@pytest.mark.parametrize(
    "lookup",
    [
        {"health_notes__icontains": "高血压"},
        {"phone__startswith": "1391234"},
        {"id_number_hash": "x"},
        {"id_number_masked__contains": "*"},
    ],
)
def test_admin_refuses_filters_on_hidden_fields(register, client, lookup):
    client.force_login(register.demo.user("bhxc_building_lead"))
    page = client.get(reverse("admin:residents_resident_changelist"), lookup)
    assert page.status_code == 400
    assert "王秀兰" not in page.content.decode()


def test_the_access_log_keeps_no_searched_number(register, client):
    worker = register.demo.user("bhxc_g1_a")
    client.force_login(worker)
    full_id = identity.decrypt(register.elder.id_number_encrypted)
    page = client.get(reverse("admin:residents_resident_changelist"), {"q": full_id, "colour__exact": "red"})
    assert page.status_code == 200
    client.get(reverse("admin:residents_resident_changelist"), {"q": full_id})
    wheres = list(AccessLog.objects.filter(user=worker).values_list("where", flat=True))
    assert wheres, "the worker saw 王秀兰's sensitive tags in the list"
    assert all(full_id not in where and "q=" not in where for where in wheres)

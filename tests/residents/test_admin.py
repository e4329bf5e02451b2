import datetime

import pytest
from django.urls import reverse

from residents import identity
from residents.models import Resident
from tests.residents.factories import make_id

pytestmark = pytest.mark.django_db


def test_staff_add_a_resident_with_only_the_id_number(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    number = make_id(datetime.date(1962, 4, 5), male=False)
    response = client.post(
        reverse("admin:residents_resident_add"),
        {
            "household": register.home_a2.pk,
            "name": "吴芳",
            "relation": "spouse",
            "id_number": number,
            "residence_kind": "registered",
            "political_status": "masses",
            "care_tags-TOTAL_FORMS": "0",
            "care_tags-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    resident = Resident.objects.get(name="吴芳")
    assert (resident.birth_date, resident.gender) == (datetime.date(1962, 4, 5), "female")
    assert identity.decrypt(resident.id_number_encrypted) == number


def test_admin_refuses_a_bad_id_number_with_a_chinese_reason(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    response = client.post(
        reverse("admin:residents_resident_add"),
        {
            "household": register.home_a2.pk,
            "name": "错号",
            "relation": "child",
            "id_number": "110105194912310021",
            "residence_kind": "registered",
            "political_status": "masses",
            "care_tags-TOTAL_FORMS": "0",
            "care_tags-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "校验位" in str(response.context["adminform"].form.errors["id_number"])
    assert not Resident.objects.filter(name="错号").exists()


def test_staff_add_a_care_tag_inline_through_the_service(register, client):
    client.force_login(register.demo.user("bhxc_secretary"))
    url = reverse("admin:residents_resident_change", args=[register.young.pk])
    response = client.post(
        url,
        {
            "household": register.home_a2.pk,
            "name": "李明",
            "relation": "head",
            "gender": "male",
            "birth_date": "1990-03-03",
            "residence_kind": "registered",
            "political_status": "masses",
            "care_tags-TOTAL_FORMS": "1",
            "care_tags-INITIAL_FORMS": "0",
            "care_tags-0-kind": "unemployed",
            "care_tags-0-since": "2026-01-01",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(register.young.care_tags.values_list("kind", flat=True)) == ["unemployed"]

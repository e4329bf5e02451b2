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


def test_a_sensitive_right_held_elsewhere_does_not_open_this_residents_care_groups(register, client):
    """A building lead of 王秀兰's building who is also a grid worker of grid B holds the sensitive
    right, but not for her: her change page shows her living alone, not her disability."""
    from grid import services as grid_services
    from grid.choices import Role
    from residents.models import AccessLog

    lead = register.demo.user("bhxc_building_lead")
    grid_services.assignment_create(user=lead, node=register.demo.grid_b, role=Role.GRID_WORKER)
    client.force_login(lead)
    page = client.get(reverse("admin:residents_resident_change", args=[register.elder.pk]))
    assert page.status_code == 200
    kinds = [form.instance.kind for form in page.context["inline_admin_formsets"][0].formset.forms]
    assert kinds == ["living_alone"]
    assert "高血压" not in page.content.decode()
    assert not AccessLog.objects.filter(user=lead).exists()

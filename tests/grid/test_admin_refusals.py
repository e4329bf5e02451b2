"""A service's refusal while the admin saves is an error on the form, with what was typed kept,
never a 500; and an object a service created is whole for what the admin does next."""

import pytest
from django.urls import reverse

from demands.models import Claim, Demand
from residents import identity
from residents.models import Resident
from services.models import Programme
from tests.demands.test_lists import Lists
from tests.residents.conftest import Register

pytestmark = pytest.mark.django_db


def _errors(page) -> str:
    form = page.context["adminform"].form
    inline = [
        str(f.errors) for formset in page.context["inline_admin_formsets"] for f in formset.formset.forms
    ]
    return str(form.errors) + " ".join(inline)


def test_a_duplicate_resident_is_a_form_error(demo, client):
    register = Register(demo)
    client.force_login(demo.user("bhxc_secretary"))
    page = client.post(
        reverse("admin:residents_resident_add"),
        {
            "household": register.home_a2.pk,
            "name": "重名者",
            "relation": "other",
            "id_number": identity.decrypt(register.elder.id_number_encrypted),
            "residence_kind": "registered",
            "political_status": "masses",
            "care_tags-TOTAL_FORMS": "0",
            "care_tags-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert "已登记" in _errors(page)
    assert 'value="重名者"' in page.content.decode()  # what was typed is kept
    assert not Resident.objects.filter(name="重名者").exists()


def test_a_demand_where_demands_are_not_kept_is_a_form_error(demo, client):
    client.force_login(demo.user("wys_staff"))
    page = client.post(
        reverse("admin:demands_demand_add"),
        {
            "node": demo.street.pk,
            "title": "街道层面的需求",
            "kind": "facilities",
            "source": "visit",
            "urgency": "normal",
            "quantity": "1",
            "claims-TOTAL_FORMS": "0",
            "claims-INITIAL_FORMS": "0",
        },
    )
    assert page.status_code == 200
    assert "社区" in _errors(page)
    assert not Demand.objects.filter(title="街道层面的需求").exists()


def test_a_programme_rule_out_of_range_is_a_form_error(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    page = client.post(
        reverse("admin:services_programme_add"),
        {
            "node": demo.beihai.pk,
            "name": "百岁",
            "benefit": "慰问",
            "rule": '{"age_min": 200}',
            "is_active": "on",
        },
    )
    assert page.status_code == 200
    assert "0" in _errors(page) and "130" in _errors(page)
    assert not Programme.objects.filter(name="百岁").exists()


def test_a_claim_added_in_the_admin_is_saved_and_shown(demo, client):
    board = Lists(demo)
    demand = board.demand()
    client.force_login(board.secretary)
    answer = client.post(reverse("admin:demands_claim_add"), {"demand": demand.pk, "unit": board.unit.pk})
    assert answer.status_code == 302
    claim = Claim.objects.get(demand=demand)
    assert claim.community_id == board.community.pk

"""Registration (双报到) and who offers resources: the API takes either party, a registration is
withdrawn only while in force, duplicates sent at once are refusals, and only a registered unit
or member offers resources in its own name."""

import pytest

from demands import lists
from demands.choices import RegistrationStatus
from demands.models import CommunityRegistration, Resource
from grid.choices import Role
from grid.errors import ConflictError
from grid.models import Assignment
from tests.demands.test_concurrency import _race
from tests.demands.test_lists import Lists
from tests.grid.factories import UserFactory


@pytest.fixture
def board(demo):
    return Lists(demo)


@pytest.mark.django_db
@pytest.mark.parametrize("party", ["unit", "member"])
def test_a_unit_or_a_member_registers_through_the_api_naming_only_itself(board, api_client, party):
    api_client.force_authenticate(board.secretary)
    target = board.stranger if party == "unit" else board.member
    body = {"community": board.community.pk, party: target.pk}
    response = api_client.post("/api/v1/registrations/", body, format="json")
    assert response.status_code == 201, response.json()
    assert CommunityRegistration.objects.filter(community=board.community, **{party: target}).exists()
    assert api_client.post("/api/v1/registrations/", body, format="json").status_code == 409


def _member_with_account(board):
    account = UserFactory(home_node=board.community, is_staff=False)
    board.member.user = account
    board.member.save(update_fields=["user"])
    return account


@pytest.mark.django_db
def test_withdrawing_an_old_withdrawn_registration_does_not_end_the_current_one(board, api_client):
    account = _member_with_account(board)
    first = lists.registration_request(community=board.community, member=board.member)
    lists.registration_decide(registration=first, accept=True, actor=board.secretary)
    lists.registration_withdraw(registration=first)
    second = lists.registration_request(community=board.community, member=board.member)
    lists.registration_decide(registration=second, accept=True, actor=board.secretary)
    volunteer = Assignment.objects.current().filter(user=account, node=board.community, role=Role.VOLUNTEER)
    assert volunteer.exists()

    api_client.force_authenticate(board.secretary)
    response = api_client.post(f"/api/v1/registrations/{first.pk}/withdraw/")
    # Withdrawing what is already withdrawn is a state conflict, and must not touch the live registration.
    assert volunteer.exists(), f"answer {response.status_code}: the accepted registration lost its role"
    assert response.status_code == 409, response.status_code


@pytest.mark.django_db
def test_a_rejected_registration_cannot_be_withdrawn(board, api_client):
    registration = lists.registration_request(community=board.community, member=board.member)
    lists.registration_decide(registration=registration, accept=False, actor=board.secretary)
    api_client.force_authenticate(board.secretary)
    response = api_client.post(f"/api/v1/registrations/{registration.pk}/withdraw/")
    registration.refresh_from_db()
    assert (response.status_code, registration.status) == (409, RegistrationStatus.REJECTED), (
        response.status_code,
        registration.status,
    )


@pytest.mark.django_db(transaction=True)
def test_two_registration_requests_at_once_give_a_conflict_not_an_integrity_error(board):
    outcomes = _race(
        lambda: lists.registration_request(community=board.community, member=board.member),
        lambda: lists.registration_request(community=board.community, member=board.member),
    )
    errors = [value for kind, value in outcomes if kind == "error"]
    assert CommunityRegistration.objects.filter(member=board.member).count() == 1
    assert all(isinstance(e, ConflictError) for e in errors), [type(e).__name__ for e in errors]


@pytest.mark.django_db
def test_a_resource_is_offered_only_by_a_unit_registered_with_the_community(board, api_client):
    """board.stranger belongs to another community and never registered with 北海新城."""
    api_client.force_authenticate(board.secretary)
    response = api_client.post(
        "/api/v1/resources/",
        {
            "community": board.community.pk,
            "unit": board.stranger.pk,
            "kind": "venue",
            "title": "别处会议室",
            "quantity": 2,
        },
        format="json",
    )
    assert response.status_code in (400, 409), (response.status_code, response.json())
    assert not Resource.objects.filter(unit=board.stranger).exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_participant_added_twice_at_once_gives_a_refusal_not_an_integrity_error(board):
    from django.core.exceptions import ValidationError

    from demands import deliberation

    topic = deliberation.topic_create(node=board.community, title="议题", description="说明", origin="staff")
    outcomes = _race(
        lambda: deliberation.participant_add(topic=topic, kind="resident_rep", name="代表甲"),
        lambda: deliberation.participant_add(topic=topic, kind="resident_rep", name="代表甲"),
    )
    errors = [value for kind, value in outcomes if kind == "error"]
    assert topic.participants.count() == 1
    assert all(isinstance(e, (ConflictError, ValidationError)) for e in errors), [
        type(e).__name__ for e in errors
    ]


@pytest.mark.django_db(transaction=True)
def test_two_registration_posts_at_once_answer_201_and_409_never_500(board):
    from rest_framework.test import APIClient

    def post():
        client = APIClient()
        client.raise_request_exception = False
        client.force_authenticate(board.secretary)
        return client.post(
            "/api/v1/registrations/",
            {"community": board.community.pk, "member": board.member.pk, "unit": None},
            format="json",
        ).status_code

    outcomes = _race(post, post)
    assert sorted(value for _kind, value in outcomes) in ([201, 400], [201, 409]), outcomes


@pytest.mark.django_db
def test_a_unit_leaving_the_community_gives_back_what_it_had_claimed(board):
    from demands.choices import ClaimStatus, DemandStatus
    from demands.models import Claim, Demand

    registration = CommunityRegistration.objects.get(community=board.community, unit=board.unit)
    taken = lists.claim_create(demand=board.demand(), unit=board.unit, actor=board.secretary)
    lists.claim_start(claim=taken)
    done = lists.claim_create(demand=board.demand(title="送餐"), unit=board.unit, actor=board.secretary)
    lists.claim_fulfil(claim=done, rating=5)
    other = lists.claim_create(
        demand=board.demand(title="理发"), unit=board.other_unit, actor=board.secretary
    )
    lists.registration_withdraw(registration=registration)
    statuses = dict(Claim.objects.values_list("pk", "status"))
    assert statuses[taken.pk] == ClaimStatus.WITHDRAWN
    assert statuses[done.pk] == ClaimStatus.FULFILLED and statuses[other.pk] == ClaimStatus.CLAIMED
    assert Demand.objects.get(pk=taken.demand_id).status == DemandStatus.OPEN
    assert "报到" in Claim.objects.get(pk=taken.pk).note

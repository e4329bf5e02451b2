"""Deliberation in the admin: the office records options, meetings and ballots with the rights it
holds (adding), and names only people of its own area."""

import datetime

import pytest

from demands import deliberation
from demands.models import Meeting, TopicOption, TopicParticipant
from tests.demands.test_lists import Lists

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(demo):
    return Lists(demo)


def _topic(board):
    return deliberation.topic_create(
        node=board.community, title="停车难", description="晚间乱停车", origin="resident"
    )


def test_the_office_adds_options_meetings_and_ballots_with_its_right_to_add_them(board, client):
    topic = _topic(board)
    alice = deliberation.participant_add(topic=topic, kind="resident_rep", name="居民代表甲")
    deliberation.participant_add(topic=topic, kind="resident_rep", name="居民代表乙")
    client.force_login(board.secretary)
    page = client.get("/admin/demands/topicoption/add/")
    assert topic.pk in [
        choice.value for choice, _label in page.context["adminform"].form.fields["topic"].choices if choice
    ]
    client.post(
        "/admin/demands/topicoption/add/", {"topic": topic.pk, "title": "划定夜间车位", "description": ""}
    )
    client.post(
        "/admin/demands/topicoption/add/", {"topic": topic.pk, "title": "维持现状", "description": ""}
    )
    assert TopicOption.objects.filter(topic=topic).count() == 2
    client.post(
        "/admin/demands/meeting/add/",
        {
            "topic": topic.pk,
            "held_at_0": "2026-10-01",
            "held_at_1": "19:00:00",
            "place": "议事厅",
            "minutes": "讨论两种方案",
            "attendees": [alice.pk],
        },
    )
    assert list(Meeting.objects.get(topic=topic).attendees.all()) == [alice]
    deliberation.voting_open(topic=topic)
    option = TopicOption.objects.get(topic=topic, title="划定夜间车位")
    client.post(
        "/admin/demands/ballot/add/",
        {
            "topic": topic.pk,
            "participant": alice.pk,
            "option": option.pk,
            "cast_at_0": "2026-10-01",
            "cast_at_1": "19:30:00",
        },
    )
    assert list(topic.ballots.values_list("participant", "option")) == [(alice.pk, option.pk)]


def test_a_topics_participants_in_the_admin_are_people_of_its_area(board, client):
    from tests.residents.conftest import Register

    register = Register(board.demo)
    topic = _topic(board)
    client.force_login(board.secretary)
    url = f"/admin/demands/topic/{topic.pk}/change/"
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name not in ("participants",)}
    data = {key: value for key, value in data.items() if not isinstance(value, (list, datetime.datetime))}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): management[name].value() for name in management.fields})
    row = {"kind": "resident_rep", "name": "外社区居民", "resident": register.far.pk, "topic": topic.pk}
    data.update({f"participants-0-{key}": value for key, value in row.items()})
    data["participants-TOTAL_FORMS"] = "1"
    assert not register.far.household.node.path.startswith(board.community.path)
    refused = client.post(url, data)
    assert refused.status_code == 200  # the form again, with the error on the row
    assert not TopicParticipant.objects.filter(topic=topic, resident=register.far).exists()
    data["participants-0-resident"] = register.young.pk
    client.post(url, data)
    assert TopicParticipant.objects.filter(topic=topic, resident=register.young).exists()

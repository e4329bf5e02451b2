import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from services import views
from services.assessment import assessment_compute, assessment_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(demo):
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    round_ = assessment_compute(street=demo.street, month=last_month)
    assessment_publish(round_=round_)
    return round_


def _rows(response):
    return [(row["rank"], row["grid"]) for row in response.context["rows"]]


def test_the_leaderboard_is_paged_in_rank_order_and_filtered_by_community(
    demo, published, client, monkeypatch
):
    monkeypatch.setattr(views, "LEADERBOARD_PAGE_SIZE", 5)
    ordered = [
        (a.rank_in_street, a.grid.name)
        for a in published.assessments.select_related("grid").order_by("rank_in_street", "grid__path")
    ]
    assert len(ordered) == 12
    client.force_login(demo.user("wys_leader"))
    first = client.get("/services/leaderboard/")
    assert _rows(first) == ordered[:5]
    assert 'rel="next"' in first.content.decode()
    third = client.get("/services/leaderboard/", {"page": 3})
    assert _rows(third) == ordered[10:]
    assert 'rel="prev"' in third.content.decode()
    # Nonsense page, round and community fall back to the latest published round, whole street.
    odd = client.get("/services/leaderboard/", {"page": "abc", "round": "x", "community": "zz"})
    assert odd.status_code == 200 and _rows(odd) == _rows(first)
    # One community: its grids only, with their rank in the community, every page in one count.
    beihai = client.get("/services/leaderboard/", {"community": demo.beihai.pk})
    own = published.assessments.filter(grid__parent=demo.beihai).order_by("rank_in_street", "grid__path")
    assert _rows(beihai) == [(a.rank_in_street, a.grid.name) for a in own][:5]
    assert [row["community_rank"] for row in beihai.context["rows"]] == [a.rank_in_community for a in own][:5]
    assert f'value="{demo.beihai.pk}" selected' in beihai.content.decode()
    # A community that is not in the round (here: a grid's id) is ignored, not an empty page.
    assert _rows(client.get("/services/leaderboard/", {"community": demo.grid_a.pk})) == _rows(first)


def test_the_leaderboard_reads_a_fixed_number_of_queries(demo, published, client):
    client.force_login(demo.user("wys_leader"))

    def count(params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/services/leaderboard/", params).status_code == 200
        return len(queries)

    assert count({}) == count({"page": 2}) == count({"community": demo.beihai.pk}) <= 12


def test_a_round_of_the_street_stays_with_the_street_office(demo, published, client):
    """A round belongs to its street: a community office sees no round, and no rows."""
    client.force_login(demo.user("c002_secretary"))
    response = client.get("/services/leaderboard/", {"round": published.pk, "community": demo.beihai.pk})
    assert response.context["round"] is None and response.context["rows"] == []
    assert demo.beihai.name not in response.content.decode()


def test_a_draft_round_shows_to_the_street_staff(demo, published, client):
    draft = assessment_compute(
        street=demo.street, month=published.month.replace(year=published.month.year - 1)
    )
    client.force_login(demo.user("wys_leader"))
    assert client.get("/services/leaderboard/").context["round"] == published
    assert client.get("/services/leaderboard/", {"round": draft.pk}).context["round"] == draft

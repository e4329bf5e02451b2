import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grid.models import GridNode
from residents import tables
from residents.choices import CareTagKind, Colour, ResidentStatus
from residents.demo import SEEDED
from residents.models import CareTag, Household, Resident
from residents.selectors import birth_date_bounds

pytestmark = pytest.mark.django_db


def _count_queries(callable_):
    with CaptureQueriesContext(connection) as context:
        response = callable_()
        assert response.status_code == 200
    return len(context.captured_queries)


def test_population_table_equals_a_direct_count(demo_register):
    # The street, a large and a small community, a grid: children of very different sizes.
    for code in ("370105005", "370105005001", "370105005002", "370105005001-G02"):
        _check_population(GridNode.objects.get(code=code))


def _check_population(node):
    table = tables.population(node)
    living = Resident.objects.filter(
        household__node__path__startswith=node.path, status=ResidentStatus.ACTIVE
    )
    total_row = table.rows[-1]
    assert total_row[-3] == living.count()
    assert total_row[-2] == living.filter(birth_date_bounds(60, None, timezone.localdate())).count()
    # each child row equals the count under that child
    for row, link in zip(table.rows[:-1], table.links[:-1], strict=True):
        child = GridNode.objects.get(pk=link)
        assert row[-3] == living.filter(household__node__path__startswith=child.path).count()
    women_80 = (
        living.filter(gender="female").filter(birth_date_bounds(80, None, timezone.localdate())).count()
    )
    assert total_row[table.columns.index("80岁及以上 女")] == women_80


def test_demo_age_structure_is_close_to_the_seed(demo_register):
    beihai = tables.population(demo_register.beihai).rows[-1]
    share = float(beihai[-1].rstrip("%"))
    assert 32 <= share <= 38  # 广生泉: 34.9% aged 60+


def test_care_group_table_equals_a_direct_count(demo_register):
    node = demo_register.beihai
    table = tables.care_groups(node, sensitive=True)
    total = table.rows[-1]
    today = timezone.localdate()
    for kind in (CareTagKind.LIVING_ALONE, CareTagKind.DISABLED, CareTagKind.LOW_INCOME):
        expected = (
            CareTag.objects.filter(
                Q(until__isnull=True) | Q(until__gt=today),
                kind=kind,
                resident__household__node__path__startswith=node.path,
                resident__status=ResidentStatus.ACTIVE,
            )
            .values("resident")
            .distinct()
            .count()
        )
        assert total[table.columns.index(str(kind.label))] == expected
        assert expected > 0


def test_sensitive_care_groups_are_counted_only_for_roles_that_may_see_them(register, client, api_client):
    unit = register.unit_a  # holds 王秀兰 (living alone, disabled)
    for username, sensitive in (("bhxc_building_lead", False), ("wys_leader", False), ("bhxc_g1_a", True)):
        user = register.demo.user(username)
        client.force_login(user)
        api_client.force_authenticate(user)
        page = client.get(reverse("residents:tables"), {"node": unit.pk, "table": "care-groups"})
        columns = [str(c) for c in page.context["table"].columns]
        assert "独居" in columns
        assert ("残疾" in columns) is sensitive and ("低保" in columns) is sensitive, username
        api = api_client.get("/api/v1/situation/care-groups/", {"node": unit.pk}).json()
        assert ("残疾" in str(api)) is sensitive, username


def test_the_table_export_needs_the_export_right_where_the_node_is(register, client):
    from grid import services as grid_services
    from grid.choices import Role

    user = register.demo.user("c002_secretary")  # may export in the other community only
    building = register.unit_a.parent
    grid_services.assignment_create(user=user, node=building, role=Role.BUILDING_LEAD)
    client.force_login(user)
    params = {"node": building.pk, "table": "population"}
    assert client.get(reverse("residents:tables"), params).status_code == 200
    assert client.get(reverse("residents:tables"), {**params, "format": "xlsx"}).status_code == 403


def test_key_households_lists_red_before_yellow_and_no_blue(demo_register):
    table = tables.key_households(demo_register.beihai)
    colours = [row[0] for row in table.rows]
    expected = Household.objects.filter(
        node__path__startswith=demo_register.beihai.path, colour__in=[Colour.RED, Colour.YELLOW]
    ).count()
    assert len(colours) == expected > 0
    reds = [c for c in colours if c.startswith("红")]
    assert colours[: len(reds)] == reds
    assert not any(c.startswith("蓝") for c in colours)


def test_tables_page_and_excel_export(demo_register, client):
    client.force_login(demo_register.user("bhxc_secretary"))
    for which in ("population", "care-groups", "key-households"):
        page = client.get(reverse("residents:tables"), {"table": which})
        assert page.status_code == 200
        xlsx = client.get(reverse("residents:tables"), {"table": which, "format": "xlsx"})
        assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")


def test_only_a_totals_row_is_set_out_as_one(demo_register, client):
    """The sums closing the population and care tables are marked as the total; the key
    households are a plain list, whose last household is not."""
    client.force_login(demo_register.user("bhxc_secretary"))
    for which, totalled in (("population", True), ("care-groups", True), ("key-households", False)):
        html = client.get(reverse("residents:tables"), {"table": which}).content.decode()
        rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr")[1:]
        assert len(rows) > 1
        assert all('class="total"' not in row for row in rows[:-1])
        assert ('class="total"' in rows[-1]) is totalled


def test_table_queries_do_not_grow_with_the_number_of_children(demo_register, client):
    client.force_login(demo_register.user("wys_leader"))
    street = _count_queries(
        lambda: client.get(reverse("residents:tables"), {"node": demo_register.street.pk})
    )
    grid = _count_queries(lambda: client.get(reverse("residents:tables"), {"node": demo_register.grid_a.pk}))
    assert street == grid


def test_resident_lists_have_a_fixed_query_count(demo_register, client, api_client):
    for username in ("admin", "bhxc_secretary", "bhxc_g1_a"):
        _check_counts(demo_register, client, api_client, username)


def _check_counts(demo_register, client, api_client, username):
    # Pages of 50 and 500 rows both hold residents with sensitive tags, so both write their one
    # access-log insert; the number of statements must not depend on the number of rows.
    user = demo_register.user(username)
    api_client.force_login(user)
    client.force_login(user)
    few = _count_queries(lambda: api_client.get("/api/v1/residents/", {"page_size": 50}))
    many = _count_queries(lambda: api_client.get("/api/v1/residents/", {"page_size": 500}))
    assert many == few <= 12
    few = _count_queries(lambda: api_client.get("/api/v1/households/", {"page_size": 2}))
    many = _count_queries(lambda: api_client.get("/api/v1/households/", {"page_size": 500}))
    assert many == few <= 10
    url = reverse("admin:residents_resident_changelist")
    small = _count_queries(lambda: client.get(url, {"q": "王"}))
    full = _count_queries(lambda: client.get(url))
    assert small == full <= 16
    url = reverse("admin:residents_household_changelist")
    assert _count_queries(lambda: client.get(url)) <= 14
    search = _count_queries(lambda: client.get(reverse("mobile-resident-search"), {"q": "王"}))
    assert search <= 8


def test_resident_list_filters(demo_register, api_client):
    api_client.force_authenticate(demo_register.user("bhxc_secretary"))
    elderly = api_client.get("/api/v1/residents/", {"age_band": "80+", "page_size": 500}).json()
    assert elderly["count"] > 0 and all(row["age"] >= 80 for row in elderly["results"])
    red = api_client.get("/api/v1/residents/", {"colour": "red"}).json()
    assert (
        red["count"]
        == Resident.objects.filter(
            colour="red", household__node__path__startswith=demo_register.beihai.path
        ).count()
    )
    alone = api_client.get("/api/v1/residents/", {"tag": "living_alone", "page_size": 500}).json()
    assert alone["count"] > 0
    assert all("living_alone" in {t["kind"] for t in row["care_tags"]} for row in alone["results"])


def test_every_seeded_record_starts_its_history_with_what_was_seeded(demo_register):
    for model in (Household, Resident, CareTag):
        assert model.history.filter(history_type="+", history_change_reason=SEEDED).count() == (
            model.objects.count()
        ), model
    # The first row holds the record as seeded: a party member linked to their membership record.
    member = Resident.objects.filter(party_membership__isnull=False).order_by("id").first()
    first = member.history.get()
    assert (first.party_membership_id, first.political_status, first.history_user) == (
        member.party_membership_id,
        member.political_status,
        None,
    )
    home = Household.objects.exclude(colour="").order_by("id").first()
    assert (home.history.get().head_id, home.history.get().colour) == (home.head_id, home.colour)

"""The tree's guards: who starts a new street, codes that QR codes rely on, moves refused as
form errors."""

import pytest

from grid.models import GridNode

pytestmark = pytest.mark.django_db


def test_only_a_system_administrator_starts_a_new_street(demo, api_client, client):
    roots = GridNode.objects.filter(depth=1).count()
    street = {"level": "street", "code": "NEW-STREET", "name": "新街道"}
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    refused = api_client.post("/api/v1/nodes/", street, format="json")
    assert refused.status_code == 400 and "parent" in refused.json()
    client.force_login(demo.user("bhxc_secretary"))
    page = client.post("/admin/grid/gridnode/add/", {**street, "parent": "", "geometry": ""})
    assert page.status_code == 200
    assert "只有系统管理员可以新建街道" in str(page.context["adminform"].form.errors["parent"])
    assert GridNode.objects.filter(depth=1).count() == roots
    # Within their community, the secretary still adds nodes.
    grid = api_client.post(
        "/api/v1/nodes/",
        {"level": "grid", "code": "BHXC-G99", "name": "第99网格", "parent": demo.beihai.pk},
        format="json",
    )
    assert grid.status_code == 201, grid.content
    admin = type(demo.user("bhxc_secretary")).objects.create_superuser(
        "root", "root@example.org", "x-12345-y"
    )
    api_client.force_authenticate(admin)
    assert api_client.post("/api/v1/nodes/", street, format="json").status_code == 201


def test_a_nodes_code_never_changes_once_printed_in_its_qr_codes(demo, api_client, client):
    grid = demo.grid_a
    api_client.force_authenticate(demo.user("bhxc_secretary"))
    answer = api_client.patch(f"/api/v1/nodes/{grid.pk}/", {"code": "NEW-CODE-1"}, format="json")
    assert answer.status_code == 400 and "code" in answer.json()
    renamed = api_client.patch(
        f"/api/v1/nodes/{grid.pk}/", {"code": grid.code, "name": "一网格"}, format="json"
    )
    assert renamed.status_code == 200
    client.force_login(demo.user("bhxc_secretary"))
    client.post(
        f"/admin/grid/gridnode/{grid.pk}/change/",
        {"parent": grid.parent_id, "code": "NEW-CODE-2", "name": "一网格", "geometry": ""},
    )
    assert GridNode.objects.get(pk=grid.pk).code == grid.code


def test_moving_a_node_in_the_admin_under_one_of_its_level_is_a_form_error(demo, client):
    grid = demo.grid_a
    client.force_login(demo.user("bhxc_secretary"))
    page = client.post(
        f"/admin/grid/gridnode/{grid.pk}/change/",
        {"parent": demo.grid_b.pk, "name": grid.name, "geometry": ""},
    )
    assert page.status_code == 200
    assert "parent" in page.context["adminform"].form.errors
    cleared = client.post(f"/admin/grid/gridnode/{grid.pk}/change/", {"parent": "", "name": grid.name})
    assert cleared.status_code == 200 and "parent" in cleared.context["adminform"].form.errors
    assert GridNode.objects.get(pk=grid.pk).parent_id == demo.beihai.pk


def test_a_place_with_open_tickets_is_not_archived(demo, api_client, client):
    from demands import services as ticket_services
    from tests.demands.conftest import Loop

    loop = Loop(demo)
    ticket = loop.ticket()  # in grid 1, with its A post
    api_client.force_authenticate(loop.secretary)
    refused = api_client.post(f"/api/v1/nodes/{demo.grid_a.pk}/archive/")
    assert refused.status_code == 400 and "仍未办结" in refused.content.decode()
    client.force_login(loop.secretary)
    page = client.post(
        "/admin/grid/gridnode/",
        {"action": "archive_nodes", "_selected_action": [demo.grid_a.pk]},
        follow=True,
    )
    assert "仍未办结" in page.content.decode()
    assert GridNode.objects.filter(path__startswith=demo.grid_a.path, archived_at__isnull=False).count() == 0
    ticket_services.ticket_reject(ticket=ticket, actor=loop.secretary, note="重复上报")
    assert api_client.post(f"/api/v1/nodes/{demo.grid_a.pk}/archive/").status_code == 200


def test_archiving_takes_the_party_branches_along_and_a_restore_brings_back_only_what_went_with_it(demo):
    import datetime

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from grid import services
    from grid.choices import PartyMemberKind
    from grid.models import PartyOrganization

    grid = demo.grid_a
    building = GridNode.objects.filter(path__startswith=grid.path, level="building").order_by("path").first()
    redrawn = timezone.now() - datetime.timedelta(days=30)
    GridNode.objects.filter(path__startswith=building.path).update(archived_at=redrawn)  # re-drawn before
    branches = PartyOrganization.objects.filter(node__path__startswith=grid.path)
    assert branches.exists()
    services.node_archive(node=grid)
    assert not branches.filter(archived_at__isnull=True).exists()
    with pytest.raises(ValidationError) as closed:
        services.party_membership_create(
            organization=branches.first(), name="新党员", kind=PartyMemberKind.IN_SERVICE
        )
    assert "organization" in closed.value.message_dict
    services.node_restore(node=GridNode.objects.get(pk=grid.pk))
    assert GridNode.objects.get(pk=grid.pk).archived_at is None
    assert GridNode.objects.get(pk=building.pk).archived_at == redrawn
    assert (
        not branches.filter(archived_at__isnull=False).exclude(node__path__startswith=building.path).exists()
    )


def test_a_reward_is_offered_by_a_community(demo, client):
    from services.models import Reward

    client.force_login(demo.user("bhxc_secretary"))
    form = {"name": "毛巾", "kind": "goods", "cost": 10, "stock": "", "provider": "", "is_active": "on"}
    page = client.post("/admin/services/reward/add/", {**form, "community": demo.grid_a.pk})
    assert page.status_code == 200 and "community" in page.context["adminform"].form.errors
    client.post("/admin/services/reward/add/", {**form, "community": demo.beihai.pk})
    assert list(Reward.objects.values_list("community", flat=True)) == [demo.beihai.pk]


def test_a_grid_moved_to_another_community_takes_its_party_branch_under_the_new_committee(demo, api_client):
    from grid.choices import PartyLevel
    from grid.models import PartyOrganization

    grid = demo.grid_a
    branch = PartyOrganization.objects.get(node=grid, level=PartyLevel.GRID_BRANCH)
    groups = set(PartyOrganization.objects.filter(parent=branch).values_list("pk", flat=True))
    api_client.force_authenticate(demo.user("wys_staff"))
    answer = api_client.patch(f"/api/v1/nodes/{grid.pk}/", {"parent": demo.other_community.pk}, format="json")
    assert answer.status_code == 200, answer.content
    branch = PartyOrganization.objects.select_related("parent__node").get(pk=branch.pk)
    assert branch.parent.node == demo.other_community
    assert branch.parent.level == PartyLevel.COMMUNITY_COMMITTEE
    assert branch.path.startswith(branch.parent.path)  # the tree path moved with the parent
    assert set(PartyOrganization.objects.filter(parent=branch).values_list("pk", flat=True)) == groups
    assert all(
        child.path.startswith(branch.path) for child in PartyOrganization.objects.filter(parent=branch)
    )
    # With no committee at the new place, the move is refused and nothing moves.
    PartyOrganization.objects.filter(node=demo.beihai, level=PartyLevel.COMMUNITY_COMMITTEE).update(
        archived_at="2026-01-01T00:00:00+08:00"
    )
    back = api_client.patch(f"/api/v1/nodes/{grid.pk}/", {"parent": demo.beihai.pk}, format="json")
    assert back.status_code == 400 and "parent" in back.json()
    assert GridNode.objects.get(pk=grid.pk).parent_id == demo.other_community.pk


def test_an_organization_does_not_move_away_from_its_own_branches(demo, api_client):
    from grid.choices import PartyLevel
    from grid.models import PartyOrganization

    committee = PartyOrganization.objects.get(node=demo.beihai, level=PartyLevel.COMMUNITY_COMMITTEE)
    api_client.force_authenticate(demo.user("wys_staff"))
    answer = api_client.patch(
        f"/api/v1/party-organizations/{committee.pk}/", {"node": demo.other_community.pk}, format="json"
    )
    assert answer.status_code == 400 and "node" in answer.json()
    assert PartyOrganization.objects.get(pk=committee.pk).node == demo.beihai


def test_a_move_recomputes_the_figures_of_the_old_and_new_ancestors(demo, api_client, settings):
    import datetime

    from django.utils import timezone

    from demands.models import Ticket
    from grid import rollup
    from grid.models import DirtyCell, MetricValue
    from tests.demands.conftest import Loop

    loop = Loop(demo)
    earlier = timezone.now() - datetime.timedelta(days=40)
    for _ in range(2):
        Ticket.objects.filter(pk=loop.ticket().pk).update(created_at=earlier)
    rollup.rebuild([rollup.REGISTRY["tickets_received"]])
    day = timezone.localtime(earlier).date()

    def received(node):
        cell = MetricValue.objects.filter(
            node=node, metric="tickets_received", period_kind="day", period_start=day, dimension=""
        ).first()
        return cell.value if cell else 0

    before = (received(demo.beihai), received(demo.other_community))
    settings.METRICS_ROLLUP_ON_COMMIT = True
    DirtyCell.objects.all().delete()
    api_client.force_authenticate(demo.user("wys_staff"))
    moved = api_client.patch(
        f"/api/v1/nodes/{demo.grid_a.pk}/", {"parent": demo.other_community.pk}, format="json"
    )
    assert moved.status_code == 200, moved.content
    assert DirtyCell.objects.filter(metric="tickets_received").count() < 20  # a span, not every day
    rollup.rollup_dirty_cells()
    assert (received(demo.beihai), received(demo.other_community)) == (before[0] - 2, before[1] + 2)
    # A rename with a refused move keeps neither.
    refused = api_client.patch(
        f"/api/v1/nodes/{demo.grid_a.pk}/", {"name": "改名", "parent": demo.grid_b.pk}, format="json"
    )
    assert refused.status_code == 400 and GridNode.objects.get(pk=demo.grid_a.pk).name != "改名"

"""Staff work through the admin: every save goes through the services and their rules."""

import pytest
from django.urls import reverse

from grid.models import Assignment, CoBuildingUnit, GridNode, User

pytestmark = pytest.mark.django_db


def test_secretary_adds_a_node_and_the_level_rule_is_shown_on_the_form(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    url = reverse("admin:grid_gridnode_add")
    children_before = demo.grid_a.numchild
    bad = client.post(
        url, {"parent": demo.grid_a.pk, "level": "community", "code": "ADM-BAD", "name": "倒挂"}
    )
    assert bad.status_code == 200
    assert "层级" in str(bad.context["adminform"].form.errors["level"])
    assert not GridNode.objects.filter(code="ADM-BAD").exists()
    good = client.post(
        url, {"parent": demo.grid_a.pk, "level": "building", "code": "ADM-OK", "name": "新建楼"}
    )
    assert good.status_code == 302
    node = GridNode.objects.get(code="ADM-OK")
    assert node.parent == demo.grid_a and node.path.startswith(demo.grid_a.path)
    assert demo.grid_a.numchild == children_before + 1


def test_archive_action_archives_the_subtree(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    response = client.post(
        reverse("admin:grid_gridnode_changelist"),
        {"action": "archive_nodes", "_selected_action": [demo.grid_b.pk]},
    )
    assert response.status_code == 302
    subtree = GridNode.objects.filter(path__startswith=demo.grid_b.path)
    assert subtree.count() > 1 and not subtree.filter(archived_at__isnull=True).exists()


def test_secretary_creates_an_account_and_assigns_it_as_b_post(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    response = client.post(
        reverse("admin:grid_user_add"),
        {
            "username": "new_worker",
            "name": "新网格员",
            "home_node": demo.beihai.pk,
            "password1": "Str0ng-pass-2026",
            "password2": "Str0ng-pass-2026",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    user = User.objects.get(username="new_worker")
    foreign = client.post(
        reverse("admin:grid_assignment_add"),
        {
            "user": user.pk,
            "node": demo.node("370105005002-G01").pk,
            "role": "grid_worker",
            "started_on": "2026-01-01",
        },
    )
    assert foreign.status_code == 200 and "node" in foreign.context["adminform"].form.errors
    second_a = client.post(
        reverse("admin:grid_assignment_add"),
        {
            "user": user.pk,
            "node": demo.grid_a.pk,
            "role": "grid_worker",
            "is_primary": "on",
            "started_on": "2026-01-01",
        },
    )
    assert second_a.status_code == 200  # the service refused a second A post
    assert not Assignment.objects.filter(user=user).exists()
    ok = client.post(
        reverse("admin:grid_assignment_add"),
        {"user": user.pk, "node": demo.grid_a.pk, "role": "grid_worker", "started_on": "2026-01-01"},
    )
    assert ok.status_code == 302
    assert Assignment.objects.get(user=user).is_primary is False


def test_secretary_cannot_grant_superuser(demo, client):
    secretary = demo.user("bhxc_secretary")
    worker = demo.user("bhxc_g1_a")
    client.force_login(secretary)
    page = client.get(reverse("admin:grid_user_change", args=[worker.pk]))
    assert page.status_code == 200
    assert "is_superuser" not in page.context["adminform"].form.fields


def test_node_form_shows_an_empty_geometry_box_and_rejects_bad_geojson(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    page = client.get(reverse("admin:grid_gridnode_add")).content.decode()
    assert ">null</textarea>" not in page
    bad = client.post(
        reverse("admin:grid_gridnode_add"),
        {
            "parent": demo.grid_a.pk,
            "level": "building",
            "code": "GEO-BAD",
            "name": "楼",
            "geometry": '{"type": "Point", "coordinates": [500, 1]}',
        },
    )
    assert bad.status_code == 200 and "geometry" in bad.context["adminform"].form.errors
    assert not GridNode.objects.filter(code="GEO-BAD").exists()


def test_admin_stores_a_phone_typed_with_full_width_digits_as_plain_digits(demo, client):
    client.force_login(demo.user("bhxc_secretary"))
    response = client.post(
        reverse("admin:grid_cobuildingunit_add"),
        {
            "name": "共建单位甲",
            "kind": "enterprise",
            "community": demo.beihai.pk,
            "contact_name": "王经理",
            "contact_phone": "+86 １３８ ００１３ ８０００",
            "agreement_signed_on": "2026-01-01",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert CoBuildingUnit.objects.get(name="共建单位甲").contact_phone == "13800138000"

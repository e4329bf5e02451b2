"""An admin action acts only where the user holds the action's permission, not wherever the user
may view: the list can show more than the user may act on."""

import pytest
from django.urls import reverse

from demands.choices import TicketStatus
from grid import services as grid_services
from grid.choices import Role

pytestmark = pytest.mark.django_db


def test_an_action_leaves_alone_what_the_user_may_only_view(loop, client):
    chief = loop.chief  # grid chief of grid 1: may dispatch, reject, close there
    grid_services.assignment_create(user=chief, node=loop.building_b, role=Role.BUILDING_LEAD)
    theirs, elsewhere = loop.ticket(), loop.ticket(node=loop.building_b)
    client.force_login(chief)
    listed = client.get(reverse("admin:demands_ticket_changelist"))
    assert {theirs.pk, elsewhere.pk} <= {t.pk for t in listed.context["cl"].result_list}
    answer = client.post(
        reverse("admin:demands_ticket_changelist"),
        {"action": "reject", "_selected_action": [theirs.pk, elsewhere.pk], "note": "不属于本网格事项"},
        follow=True,
    )
    assert answer.status_code == 200
    theirs.refresh_from_db()
    elsewhere.refresh_from_db()
    assert theirs.status == TicketStatus.REJECTED
    assert elsewhere.status != TicketStatus.REJECTED
    assert "1 个所选项目不在您可执行此操作的范围内，已跳过。" in answer.content.decode()

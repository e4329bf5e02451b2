"""The closed loop in a real browser at phone size: report → accept → resolve → rate → closed."""

import re

import pytest

from demands.choices import TicketStatus
from demands.demo import ensure_categories
from demands.models import Ticket
from grid.models import GridNode

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resident_report_goes_round_the_loop_on_phones(live_server, phone, demo):
    ensure_categories()
    building = GridNode.objects.filter(path__startswith=demo.grid_a.path, level="building").order_by("path")[
        0
    ]
    worker = demo.user("bhxc_g1_a")
    worker.set_password("field-pass-2026")
    worker.save()

    # A resident scans the QR code on the building and reports.
    resident = phone()
    resident.goto(f"{live_server.url}/r/{building.code}/")
    resident.get_by_label("环境卫生").check()
    resident.get_by_label("问题描述").fill("单元门口堆满了装修垃圾")
    resident.get_by_label("联系电话（选填，便于回访）").fill("13912345678")
    resident.get_by_role("button", name="提交").click()
    resident.wait_for_url(re.compile(r"/t/[A-Z0-9]+/$"))
    code = resident.locator("#tracking-code").inner_text().strip()
    assert resident.locator("#ticket-status").inner_text() == "已派单"

    # The grid worker logs in on the phone, takes the ticket and resolves it.
    field = phone()
    field.goto(f"{live_server.url}/accounts/login/?next=/m/tickets/")
    field.get_by_label("用户名").fill("bhxc_g1_a")
    field.get_by_label("密码").fill("field-pass-2026")
    field.get_by_role("button", name="登录").click()
    field.wait_for_url(re.compile(r"/m/tickets/$"))
    field.get_by_text("单元门口堆满了装修垃圾").click()
    field.get_by_role("button", name="接单").click()
    field.get_by_label("处理情况").fill("已联系物业清运，门口已清理干净")
    field.get_by_role("button", name="办结").click()
    field.wait_for_selector("text=已办结")

    # The resident follows the code and rates the result.
    resident.goto(f"{live_server.url}/t/{code}/")
    assert "已联系物业清运" in resident.content()
    resident.get_by_label("5 · 非常满意").check()
    resident.get_by_label("意见（选填）").fill("处理很及时")
    resident.get_by_role("button", name="提交评价").click()
    resident.wait_for_selector("text=您的评分为5分")
    assert resident.locator("#ticket-status").inner_text() == "已结案"

    ticket = Ticket.objects.get(tracking_code=code)
    assert (ticket.status, ticket.rating, ticket.rating_comment, ticket.assignee) == (
        TicketStatus.CLOSED,
        5,
        "处理很及时",
        worker,
    )
    assert list(ticket.events.values_list("action", flat=True)) == [
        "submit",
        "assign",
        "accept",
        "resolve",
        "close",
    ]
    assert resident.console_errors == [] and field.console_errors == []

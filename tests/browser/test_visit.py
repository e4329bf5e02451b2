"""A grid worker on a phone: the overdue-visit list, a visit that raises a ticket, the colour changes."""

import re

import pytest

from demands.demo import ensure_categories
from demands.models import Ticket
from residents.models import Household
from tests.residents.conftest import Register

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_records_a_visit_that_raises_a_ticket_and_recolours_the_household(live_server, phone, demo):
    ensure_categories()
    register = Register(demo)
    worker = demo.user("bhxc_g1_a")
    worker.set_password("field-pass-2026")
    worker.save()

    page = phone()
    page.goto(f"{live_server.url}/accounts/login/?next=/m/visits/")
    page.get_by_label("用户名").fill("bhxc_g1_a")
    page.get_by_label("密码").fill("field-pass-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"/m/visits/$"))
    page.get_by_text(register.home_a.address).click()
    page.get_by_label("发现的问题").fill("老人独居，行动不便，楼道灯不亮")
    page.get_by_label("红色：重点关注").check()
    page.get_by_label("颜色调整原因").fill("独居高龄，改为每周走访")
    page.get_by_label("上报问题（工单）").check()
    page.get_by_label("问题类别").select_option(label="设施维修")
    page.get_by_label("问题", exact=True).fill("3单元楼道灯不亮")
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_url(re.compile(r"/m/visits/$"))
    assert register.home_a.address not in page.content()  # no longer due
    assert page.console_errors == []

    household = Household.objects.get(pk=register.home_a.pk)
    assert household.colour == "red"
    visit = household.visits.get()
    assert (visit.colour_before, visit.colour_after) == ("", "red")
    ticket = Ticket.objects.get(pk=visit.ticket_id)
    assert (ticket.description, ticket.source, ticket.node) == ("3单元楼道灯不亮", "patrol", household.node)

"""The street dashboard in a real browser: charts and map render, drill down, follow a figure."""

import re

import pytest

from grid import rollup
from grid.models import GridNode
from tests.demands.conftest import Loop

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_leader_opens_the_street_dashboard_drills_down_and_follows_a_figure(live_server, browser, demo):
    loop = Loop(demo)
    for _ in range(3):
        loop.ticket()
    # A name typed by staff is shown as text on the map, never run as markup.
    hostile = '<img src=x onerror="window.__injected=1">'
    GridNode.objects.filter(pk=demo.other_community.pk).update(name=hostile)
    rollup.rebuild()
    leader = demo.user("wys_leader")
    leader.set_password("leader-pass-2026")
    leader.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.goto(f"{live_server.url}/accounts/login/?next=/dashboard/")
    page.get_by_label("用户名").fill("wys_leader")
    page.get_by_label("密码").fill("leader-pass-2026")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(rf"/dashboard/{demo.street.pk}/"))
    page.wait_for_selector("#trend svg")  # ECharts drew the trend
    page.wait_for_selector("#map .leaflet-interactive")  # Leaflet drew the communities
    assert page.locator("#map .leaflet-interactive").count() == 5
    assert page.locator("#figure-received .value").inner_text().strip() == "3"
    shapes = page.locator("#map .leaflet-interactive")
    for index in range(shapes.count()):  # a community's tooltip shows while hovered
        shapes.nth(index).dispatch_event("mouseover")
    assert page.locator("#map .leaflet-tooltip", has_text=hostile).count() == 1
    assert page.locator("#map img").count() == 0 and page.evaluate("window.__injected") is None
    page.get_by_role("link", name=demo.beihai.name).first.click()
    page.wait_for_url(re.compile(rf"/dashboard/{demo.beihai.pk}/"))
    page.wait_for_selector("#trend svg")
    page.locator("#figure-received").click()
    page.wait_for_url(re.compile(r"/admin/demands/ticket/"))
    assert page.locator("#result_list tbody tr").count() == 3
    assert errors == []
    context.close()

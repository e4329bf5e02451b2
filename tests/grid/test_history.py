"""History rows for every change to residents, households, care tags, tickets and claims, made by
save() or by the services' conditional and bulk updates, and the admin page that shows them."""

import datetime

import pytest
from django.urls import reverse

from demands import lists
from demands import services as ticket_services
from demands.choices import ClaimStatus
from demands.models import Claim, Ticket
from residents import services as resident_services
from residents.choices import AccessAction, CareTagKind, ResidentStatus
from residents.models import AccessLog, CareTag, Household, Resident
from tests.demands.conftest import Loop
from tests.demands.test_lists import Lists
from tests.residents.conftest import Register

pytestmark = pytest.mark.django_db


def kinds(queryset):
    return [row.history_type for row in queryset.order_by("history_date", "history_id")]


def test_a_resident_edited_in_the_admin_keeps_each_version_with_who_changed_it(demo, client):
    register = Register(demo)
    elder = register.elder
    secretary = demo.user("bhxc_secretary")
    client.force_login(secretary)
    url = reverse("admin:residents_resident_change", args=[elder.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "name": "王秀英",
            "phone_input": "13612345678",
            "health_notes": "糖尿病",
            "care_tags-TOTAL_FORMS": "0",
            "care_tags-INITIAL_FORMS": "0",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    versions = elder.history.order_by("history_date")
    assert kinds(elder.history) == ["+", "~"]
    latest = versions.last()
    assert (latest.name, latest.history_user) == ("王秀英", secretary)
    assert not hasattr(latest, "id_number_encrypted") and not hasattr(latest, "id_number_hash")

    # The history page: old and new values, the phone masked, the health notes to a caseworker.
    page = client.get(reverse("admin:residents_resident_history", args=[elder.pk])).content.decode()
    assert "王秀兰" in page and "王秀英" in page
    assert "139****5678" in page and "136****5678" in page
    assert "13612345678" not in page and "13912345678" not in page
    assert "糖尿病" in page and "高血压" in page
    assert AccessLog.objects.filter(
        user=secretary, resident=elder, action=AccessAction.VIEW_SENSITIVE
    ).exists()


def test_the_history_page_hides_health_notes_from_a_role_without_the_right(demo, client):
    register = Register(demo)
    resident_services.resident_update(resident=register.elder, health_notes="糖尿病")
    client.force_login(demo.user("wys_leader"))
    page = client.get(reverse("admin:residents_resident_history", args=[register.elder.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "糖尿病" not in body and "高血压" not in body
    assert "已修改" in body  # says that the field changed, not what it says
    assert not AccessLog.objects.exists()


def test_the_resident_history_page_lists_care_group_changes_sensitive_ones_to_those_who_may_see_them(
    demo, client, django_assert_max_num_queries
):
    register = Register(demo)  # the elder lives alone and has a grade 2 disability
    disability = CareTag.objects.get(resident=register.elder, kind=CareTagKind.DISABLED)
    resident_services.care_tag_update(tag=disability, grade=1, note="二级升一级")
    alone = CareTag.objects.get(resident=register.elder, kind=CareTagKind.LIVING_ALONE)
    resident_services.care_tag_update(tag=alone, until=alone.since, note="子女搬回同住")
    url = reverse("admin:residents_resident_history", args=[register.elder.pk])

    secretary = demo.user("bhxc_secretary")
    client.force_login(secretary)
    client.get(url)  # warm the session and content-type caches
    with django_assert_max_num_queries(16) as captured:
        body = client.get(url).content.decode()
    assert sum("residents_historicalcaretag" in query["sql"] for query in captured.captured_queries) == 1
    section = body[body.index('id="care-tag-history"') :]
    assert "重点人群变更" in section
    assert section.count("<tr>") == 1 + 4  # header, then two tags added and each changed once
    assert "残疾" in section and "二级升一级" in section
    assert "独居" in section and "子女搬回同住" in section
    assert AccessLog.objects.filter(user=secretary, resident=register.elder, fields="history").exists()

    # A leader without the right to sensitive data sees the living-alone changes only.
    AccessLog.objects.all().delete()
    client.force_login(demo.user("wys_leader"))
    section = client.get(url).content.decode()
    section = section[section.index('id="care-tag-history"') :]
    assert section.count("<tr>") == 1 + 2
    assert "独居" in section and "子女搬回同住" in section
    assert "残疾" not in section and "二级升一级" not in section
    assert not AccessLog.objects.exists()


def test_a_care_tag_that_was_ever_of_a_sensitive_group_is_hidden_in_every_version(demo, client):
    register = Register(demo)
    alone = CareTag.objects.get(resident=register.elder, kind=CareTagKind.LIVING_ALONE)
    resident_services.care_tag_update(tag=alone, note="独居多年")
    alone.kind, alone.note = CareTagKind.SERIOUS_ILLNESS, "确诊重病"  # its group changed in the form
    alone.save()
    url = reverse("admin:residents_resident_history", args=[register.elder.pk])

    client.force_login(demo.user("wys_leader"))
    section = client.get(url).content.decode()
    section = section[section.index('id="care-tag-history"') :]
    assert "独居多年" not in section and "确诊重病" not in section and "残疾" not in section
    assert "该居民的重点人群没有变更记录" in section

    client.force_login(demo.user("bhxc_secretary"))
    section = client.get(url).content.decode()
    section = section[section.index('id="care-tag-history"') :]
    assert "独居多年" in section and "确诊重病" in section and "残疾" in section


def test_an_outsider_gets_no_history(demo, client):
    register = Register(demo)
    client.force_login(demo.user("c002_secretary"))
    for name, pk in [
        ("admin:residents_resident_history", register.elder.pk),
        ("admin:residents_household_history", register.home_a.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code in (302, 403, 404)


def test_service_updates_that_bypass_save_still_leave_history(demo):
    register = Register(demo)
    secretary = demo.user("bhxc_secretary")
    home = register.home_a
    assert kinds(home.history) == ["+", "~"]  # created, then its head set by a conditional update
    assert home.history.latest("history_date").head_id == register.elder.pk

    resident_services.colour_set(household=home, colour="red", reason="独居老人", actor=secretary)
    colour = home.history.latest("history_date")
    assert (colour.colour, colour.history_user, colour.history_change_reason) == (
        "red",
        secretary,
        "独居老人",
    )

    # Moved out on a day before one of the care tags started: that tag ends on its own first day.
    tags = CareTag.objects.filter(resident=register.elder).order_by("pk")
    early, late = tags[0], tags[1]
    CareTag.objects.filter(pk=early.pk).update(since=datetime.date(2020, 1, 1))
    moved = datetime.date(2026, 1, 1)
    resident_services.resident_set_status(resident=register.elder, status=ResidentStatus.MOVED_OUT, on=moved)
    assert home.history.latest("history_date").head_id is None
    assert early.history.latest("history_date").until == moved
    assert late.history.latest("history_date").until == late.since
    assert register.elder.history.latest("history_date").status == ResidentStatus.MOVED_OUT


def test_each_ticket_step_is_a_history_row_with_its_actor_and_reason(demo, client):
    loop = Loop(demo)
    ticket = loop.ticket()
    ticket_services.ticket_accept(ticket=ticket, actor=loop.worker_a)
    ticket_services.ticket_resolve(ticket=ticket, actor=loop.worker_a, note="已清理")
    ticket_services.ticket_rate(ticket=ticket, rating=5)
    rows = list(ticket.history.order_by("history_date", "history_id"))
    statuses = [row.status for row in rows]
    assert statuses[0] == "submitted" and statuses[-3:] == ["accepted", "resolved", "closed"]
    accepted = rows[-3]
    assert (accepted.history_user, accepted.history_change_reason) == (loop.worker_a, "接单")
    assert rows[-1].rating == 5 and rows[-1].history_user is None

    client.force_login(loop.secretary)
    page = client.get(reverse("admin:demands_ticket_history", args=[ticket.pk])).content.decode()
    assert "已接单" in page and "已办结" in page  # choices show their labels
    assert "13800138000" not in page  # the reporter's phone never shows in full

    client.force_login(demo.user("c002_secretary"))
    assert client.get(reverse("admin:demands_ticket_history", args=[ticket.pk])).status_code in (
        302,
        403,
        404,
    )


def test_the_overdue_job_leaves_a_history_row_without_a_user(demo):
    loop = Loop(demo)
    ticket = loop.ticket()
    Ticket.objects.filter(pk=ticket.pk).update(response_due=ticket.created_at - datetime.timedelta(hours=1))
    ticket_services.escalate_overdue()
    flagged = ticket.history.filter(is_overdue=True).order_by("history_date").first()
    assert flagged is not None and flagged.history_user is None
    assert flagged.history_change_reason == "超过办理时限。"


def test_each_claim_step_is_a_history_row(demo):
    board = Lists(demo)
    claim = lists.claim_create(demand=board.demand(), unit=board.unit, actor=board.secretary)
    lists.claim_start(claim=claim)
    lists.claim_fulfil(claim=claim, rating=5, feedback="很好")
    rows = list(Claim.history.filter(id=claim.pk).order_by("history_date", "history_id"))
    assert [row.status for row in rows] == [
        ClaimStatus.CLAIMED,
        ClaimStatus.IN_PROGRESS,
        ClaimStatus.FULFILLED,
    ]
    assert [row.history_type for row in rows] == ["+", "~", "~"]
    assert rows[-1].feedback == "很好"


def test_a_ledger_import_records_who_imported_each_row(demo, client):
    from tests.residents.test_import import _good_rows, _upload, _xlsx

    register = Register(demo)
    secretary = demo.user("bhxc_secretary")
    client.force_login(secretary)
    content = _xlsx(_good_rows(register))
    _upload(client, content, demo.beihai)
    imported = Resident.objects.get(name="刘德华")
    created = imported.history.get()
    assert (created.history_type, created.history_user, created.history_change_reason) == (
        "+",
        secretary,
        "台账导入",
    )
    household = Household.objects.get(node=register.unit_a, room="301")
    assert kinds(household.history) == ["+", "~"]  # created, then head and colour set
    tag = CareTag.objects.get(resident=imported, kind=CareTagKind.DISABLED)
    assert tag.history.get().grade == 2
    # The same file again changes nothing, so writes no history.
    before = (Resident.history.count(), Household.history.count(), CareTag.history.count())
    _upload(client, content, demo.beihai)
    assert (Resident.history.count(), Household.history.count(), CareTag.history.count()) == before

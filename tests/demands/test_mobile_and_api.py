import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from demands import services
from demands.choices import TicketStatus
from demands.models import Ticket, TicketEvent, TicketPhoto
from tests.demands.helpers import jpeg_with_gps

pytestmark = pytest.mark.django_db


def _count(callable_):
    with CaptureQueriesContext(connection) as context:
        response = callable_()
        assert response.status_code == 200
    return len(context.captured_queries)


def test_worker_queue_holds_my_tickets_overdue_first_and_nothing_of_grid_b(loop, client):
    mine, late = loop.ticket(), loop.ticket()
    Ticket.objects.filter(pk=late.pk).update(is_overdue=True)
    other = loop.ticket(node=loop.building_b)
    client.force_login(loop.worker_a)
    queue = list(client.get(reverse("mobile-queue")).context["tickets"])
    assert [t.pk for t in queue] == [late.pk, mine.pk]
    assert other.pk not in [t.pk for t in queue]
    assert client.get(reverse("mobile-ticket", args=[other.pk])).status_code == 404
    response = client.post(
        reverse("mobile-ticket", args=[other.pk]), {"action": "accept", "idempotency_key": uuid.uuid4().hex}
    )
    assert response.status_code == 404
    assert Ticket.objects.get(pk=other.pk).status == TicketStatus.ASSIGNED


def test_worker_accepts_and_resolves_with_a_photo_on_the_phone(loop, client):
    ticket = loop.ticket()
    client.force_login(loop.worker_a)
    url = reverse("mobile-ticket", args=[ticket.pk])
    key = uuid.uuid4().hex
    assert client.post(url, {"action": "accept", "idempotency_key": key}).status_code == 302
    # the same form sent again on a weak network: no error, no second event
    assert client.post(url, {"action": "accept", "idempotency_key": key}).status_code == 302
    assert TicketEvent.objects.filter(ticket=ticket, action="accept").count() == 1
    refused = client.post(url, {"action": "resolve", "note": "", "idempotency_key": uuid.uuid4().hex})
    assert refused.status_code == 200 and "请填写处理情况" in refused.content.decode()
    done = client.post(
        url,
        {
            "action": "resolve",
            "note": "杂物已清理",
            "idempotency_key": uuid.uuid4().hex,
            "photos": [jpeg_with_gps()],
        },
    )
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED
    assert TicketPhoto.objects.filter(ticket=ticket, event__action="resolve").count() == 1
    # The page shows a thumbnail (a few KB on a weak network) linking to the full photo.
    photo = TicketPhoto.objects.get(ticket=ticket)
    with photo.thumbnail.open("rb") as small:
        from PIL import Image

        assert max(Image.open(small).size) <= 480
    assert photo.thumbnail.size < photo.image.size
    page = client.get(url).content.decode()
    assert f'<a href="{photo.image.url}"><img src="{photo.thumbnail.url}"' in page


def test_patrol_report_from_the_phone_is_idempotent_and_in_scope(loop, client):
    client.force_login(loop.worker_a)
    page = client.get(reverse("mobile-report"))
    nodes = page.context["form"].fields["node"].queryset
    assert loop.building_a in nodes and loop.building_b not in nodes
    key = uuid.uuid4().hex
    data = {
        "idempotency_key": key,
        "node": loop.building_a.pk,
        "category": loop.category.pk,
        "description": "井盖缺失",
    }
    first, second = client.post(reverse("mobile-report"), data), client.post(reverse("mobile-report"), data)
    assert first.url == second.url
    assert Ticket.objects.filter(description="井盖缺失").count() == 1
    outside = client.post(
        reverse("mobile-report"), {**data, "idempotency_key": uuid.uuid4().hex, "node": loop.building_b.pk}
    )
    assert outside.status_code == 200 and "node" in outside.context["form"].errors


def test_calling_the_reporter_is_recorded(loop, client):
    ticket = loop.ticket()
    client.force_login(loop.worker_a)
    page = client.get(reverse("mobile-ticket", args=[ticket.pk])).content.decode()
    assert "13800138000" not in page and "138****8000" in page
    response = client.post(reverse("mobile-call-reporter", args=[ticket.pk]))
    assert response["Location"] == "tel:13800138000"
    assert TicketEvent.objects.filter(ticket=ticket, action="reveal_phone", actor=loop.worker_a).exists()


def test_api_is_scoped_and_masks_the_reporter_phone(loop, api_client):
    mine, other = loop.ticket(), loop.ticket(node=loop.building_b)
    api_client.force_authenticate(loop.worker_a)
    body = api_client.get("/api/v1/tickets/").json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["reporter_phone_masked"] == "138****8000"
    assert "13800138000" not in str(body)
    assert api_client.get(f"/api/v1/tickets/{other.pk}/").status_code == 404
    assert api_client.get("/api/v1/tickets/", {"node": loop.building_b.pk}).json()["count"] == 0
    assert api_client.post(f"/api/v1/tickets/{other.pk}/accept/").status_code == 404


def test_api_create_with_an_idempotency_key_creates_once(loop, api_client):
    api_client.force_authenticate(loop.worker_a)
    payload = {
        "category": "safety",
        "node": loop.building_a.pk,
        "description": "电动车楼道充电",
        "source": "patrol",
    }
    first = api_client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="phone-abc-123")
    second = api_client.post("/api/v1/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="phone-abc-123")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert (first["Idempotent-Replayed"], second["Idempotent-Replayed"]) == ("false", "true")
    assert Ticket.objects.filter(description="电动车楼道充电").count() == 1
    bad = api_client.post(
        "/api/v1/tickets/",
        {**payload, "description": ""},
        format="json",
        HTTP_IDEMPOTENCY_KEY="phone-abc-456",
    )
    assert bad.status_code == 400 and "description" in bad.json()


def test_api_actions_answer_409_for_illegal_moves_and_list_events(loop, api_client):
    ticket = loop.ticket()
    api_client.force_authenticate(loop.worker_a)
    assert (
        api_client.post(f"/api/v1/tickets/{ticket.pk}/resolve/", {"note": "x"}, format="json").status_code
        == 409
    )
    assert api_client.post(f"/api/v1/tickets/{ticket.pk}/accept/").status_code == 200
    second = api_client.post(f"/api/v1/tickets/{ticket.pk}/accept/")
    assert second.status_code == 409 and second.json()["code"] == "illegal_transition"
    resolved = api_client.post(f"/api/v1/tickets/{ticket.pk}/resolve/", {"note": "已处理"}, format="json")
    assert resolved.json()["status"] == "resolved"
    events = api_client.get(f"/api/v1/tickets/{ticket.pk}/events/").json()
    assert [e["to_status"] for e in events] == ["submitted", "assigned", "accepted", "resolved"]
    assert (
        api_client.post(f"/api/v1/tickets/{ticket.pk}/reject/", {"note": "x"}, format="json").status_code
        == 403
    )


def test_staff_record_a_callback_rating_through_the_api(loop, api_client):
    ticket = services.ticket_resolve(
        ticket=services.ticket_accept(ticket=loop.ticket(), actor=loop.worker_a),
        actor=loop.worker_a,
        note="ok",
    )
    api_client.force_authenticate(loop.secretary)
    response = api_client.post(
        f"/api/v1/tickets/{ticket.pk}/rating/", {"rating": 4, "comment": "电话回访满意"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rating_source"]) == ("closed", "callback")


def test_ticket_lists_have_a_fixed_query_count(loop, api_client, client):
    for _ in range(3):
        loop.ticket()
    api_client.force_login(loop.secretary)
    client.force_login(loop.secretary)
    few = _count(lambda: api_client.get("/api/v1/tickets/", {"page_size": 1}))
    for _ in range(20):
        loop.ticket(node=loop.building_b)
    many = _count(lambda: api_client.get("/api/v1/tickets/", {"page_size": 100}))
    assert few == many <= 9
    admin_few = _count(
        lambda: client.get(reverse("admin:demands_ticket_changelist"), {"status__exact": "closed"})
    )
    admin_many = _count(lambda: client.get(reverse("admin:demands_ticket_changelist")))
    assert admin_few == admin_many <= 14
    client.force_login(loop.worker_a)
    assert _count(lambda: client.get(reverse("mobile-queue"))) <= 8


def test_staff_queue_in_the_admin_is_scoped_and_dispatches(loop, client):
    mine, other = loop.ticket(), loop.ticket(node=loop.demo.node("370105005002-B001"))
    client.force_login(loop.secretary)
    page = client.get(reverse("admin:demands_ticket_changelist"))
    assert set(page.context["cl"].result_list) == {mine}
    client.post(
        reverse("admin:demands_ticket_changelist"),
        {"action": "reassign", "_selected_action": [mine.pk], "assignee": "bhxc_g1_b", "note": "A岗请假"},
    )
    mine.refresh_from_db()
    assert mine.assignee == loop.worker_b
    assert other.pk not in [t.pk for t in page.context["cl"].result_list]


def test_qr_codes_for_a_subtree_print(loop, client):
    client.force_login(loop.secretary)
    page = client.get(reverse("ticket-qr"), {"node": loop.demo.grid_a.pk})
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count("<svg") == len(page.context["cards"]) > 0
    assert f"/r/{loop.building_a.code}/" in text
    assert client.get(reverse("ticket-qr"), {"node": loop.demo.other_community.pk}).status_code == 404


def test_staff_enter_a_report_for_a_registered_resident(loop, api_client):
    from tests.residents.conftest import Register

    register = Register(loop.demo)
    api_client.force_authenticate(loop.secretary)
    payload = {
        "category": "elderly",
        "node": loop.building_a.pk,
        "description": "需要助餐",
        "source": "staff",
        "reporter_resident": register.elder.pk,
    }
    created = api_client.post("/api/v1/tickets/", payload, format="json").json()
    assert (created["reporter_resident"], created["reporter_name"]) == (register.elder.pk, "王秀兰")
    elsewhere = api_client.post(
        "/api/v1/tickets/", {**payload, "reporter_resident": register.far.pk}, format="json"
    )
    assert elsewhere.status_code == 400 and "reporter_resident" in elsewhere.json()


def test_every_api_write_honours_the_idempotency_key(loop, api_client):
    """An action sent twice with one key acts once; the same key on a different request is a 409."""
    ticket = loop.ticket()
    api_client.force_authenticate(loop.worker_a)
    url = f"/api/v1/tickets/{ticket.pk}/"
    first = api_client.post(url + "accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-once-1")
    again = api_client.post(url + "accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="accept-once-1")
    assert first.status_code == again.status_code == 200
    assert (first["Idempotent-Replayed"], again["Idempotent-Replayed"]) == ("false", "true")
    assert ticket.events.filter(action="accept").count() == 1
    other = api_client.post(
        url + "resolve/", {"note": "已处理"}, format="json", HTTP_IDEMPOTENCY_KEY="accept-once-1"
    )
    assert other.status_code == 409
    assert Ticket.objects.get(pk=ticket.pk).status == "accepted"
    assert (
        api_client.post(url + "resolve/", {}, format="json", HTTP_IDEMPOTENCY_KEY="bad key!").status_code
        == 400
    )


def test_a_stale_page_cannot_replay_another_forms_key(loop, client):
    """Two forms of one page share its key: after the first was sent, the second is refused with
    a reason instead of silently getting the first one's answer."""
    ticket = loop.ticket()
    client.force_login(loop.worker_a)
    url = reverse("mobile-ticket", args=[ticket.pk])
    key = uuid.uuid4().hex
    assert client.post(url, {"action": "accept", "idempotency_key": key}).status_code == 302
    stale = client.post(url, {"action": "resolve", "note": "已清理", "idempotency_key": key})
    assert stale.status_code == 200 and "重新加载" in stale.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).status == "accepted"


def test_a_key_on_a_route_without_writes_is_a_plain_405(loop, api_client):
    api_client.force_authenticate(loop.secretary)
    ticket = loop.ticket()
    answer = api_client.post(
        f"/api/v1/tickets/{ticket.pk}/", {}, format="json", HTTP_IDEMPOTENCY_KEY="no-write-here-1"
    )
    assert answer.status_code == 405

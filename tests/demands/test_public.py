"""The QR report page and the tracking page, used without an account."""

import uuid

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from demands.choices import TicketSource, TicketStatus
from demands.models import Ticket, TicketPhoto
from tests.demands.helpers import jpeg_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def _post(client, loop, node=None, **overrides):
    data = {
        "idempotency_key": uuid.uuid4().hex,
        "category": loop.category.pk,
        "description": "3单元楼道灯坏了",
        "location_text": "3单元2楼",
        "reporter_name": "王女士",
        "reporter_phone": "13912345678",
    }
    data.update(overrides)
    return client.post(reverse("public-report", args=[(node or loop.building_a).code]), data)


def test_a_resident_reports_and_is_sent_to_the_tracking_page(loop, client):
    page = client.get(reverse("public-report", args=[loop.building_a.code]))
    assert page.status_code == 200 and "环境卫生" in page.content.decode()
    response = _post(client, loop, photos=[jpeg_with_gps()])
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "public-track", args=[ticket.tracking_code]
    )
    assert (ticket.source, ticket.node, ticket.status, ticket.assignee) == (
        TicketSource.QR,
        loop.building_a,
        TicketStatus.ASSIGNED,
        loop.worker_a,
    )
    track = client.get(response.url).content.decode()
    assert ticket.tracking_code in track and "13912345678" not in track


def test_photos_are_re_encoded_without_exif_or_gps(loop, client):
    _post(client, loop, photos=[jpeg_with_gps()])
    photo = TicketPhoto.objects.get()
    with photo.image.open("rb") as stored, Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"description": ""}, "description", "请用几个字描述问题"),
        ({"category": ""}, "category", "请选择问题类别"),
        ({"reporter_phone": "12345"}, "reporter_phone", "手机号"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_writes_nothing(loop, client, overrides, field, message):
    response = _post(client, loop, **overrides)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not Ticket.objects.exists()


def test_oversized_and_non_image_uploads_are_refused(loop, client):
    fake = SimpleUploadedFile("x.jpg", b"not an image at all" * 100, content_type="image/jpeg")
    response = _post(client, loop, photos=[fake])
    assert "无法识别" in " ".join(response.context["form"].errors["photos"])
    huge = SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 1), content_type="image/png")
    response = _post(client, loop, photos=[huge])
    assert "10 MB" in " ".join(response.context["form"].errors["photos"])
    assert not Ticket.objects.exists() and not TicketPhoto.objects.exists()


def test_an_unknown_or_archived_place_is_not_found(loop, client):
    assert client.get(reverse("public-report", args=["NO-SUCH-CODE"])).status_code == 404
    assert client.get(reverse("public-report", args=[loop.demo.street.code])).status_code == 404
    from grid import services as grid_services

    grid_services.node_archive(node=loop.building_b)
    assert _post(client, loop, node=loop.building_b).status_code == 404
    assert not Ticket.objects.exists()


def test_a_resent_form_creates_one_ticket(loop, client):
    key = uuid.uuid4().hex
    first = _post(client, loop, idempotency_key=key)
    second = _post(client, loop, idempotency_key=key)
    assert Ticket.objects.count() == 1
    assert first.url == second.url


def test_the_report_form_is_rate_limited(loop, client):
    for _ in range(5):
        assert _post(client, loop).status_code == 302
    assert _post(client, loop).status_code == 429
    assert Ticket.objects.count() == 5


def test_the_resident_rates_a_resolved_report(loop, client):
    from demands import services

    _post(client, loop)
    ticket = Ticket.objects.get()
    services.ticket_resolve(
        ticket=services.ticket_accept(ticket=ticket, actor=loop.worker_a),
        actor=loop.worker_a,
        note="已更换灯泡",
    )
    url = reverse("public-track", args=[ticket.tracking_code])
    page = client.get(url).content.decode()
    assert "已更换灯泡" in page and 'name="rating"' in page
    assert client.post(url, {"rating": "9"}).status_code == 200  # refused, form again
    client.post(url, {"rating": "5", "comment": "谢谢"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rating, ticket.rating_comment) == (TicketStatus.CLOSED, 5, "谢谢")


def test_an_unsatisfied_resident_reopens_the_report(loop, client):
    from demands import services

    _post(client, loop)
    ticket = Ticket.objects.get()
    services.ticket_resolve(
        ticket=services.ticket_accept(ticket=ticket, actor=loop.worker_a), actor=loop.worker_a, note="已处理"
    )
    client.post(
        reverse("public-track", args=[ticket.tracking_code]), {"rating": "1", "comment": "灯还是不亮"}
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.ASSIGNED and ticket.rating == 1
    assert ticket.events.filter(action="reopen").exists()


def test_unknown_tracking_codes_are_not_found(client, loop):
    assert client.get(reverse("public-track", args=["ZZZZZZZZZZ"])).status_code == 404

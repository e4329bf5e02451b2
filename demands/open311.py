"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/), JSON format.

Service codes are the ticket categories; service_request_id is the ticket id; statuses map to
open/closed. Writes need an api_key issued to a client system and bound to a node's subtree.
Reads need one too (or a signed-in user): tickets carry residents' words and places, so they are
never listed to anonymous callers, and every list goes through the scope rule.
"""

import datetime
import hashlib
import math
import secrets

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from demands import services
from demands.choices import FINAL_STATUSES, Level, TicketSource
from demands.models import ApiClient, Ticket, TicketCategory, TicketPhoto
from grid.choices import NodeLevel
from grid.models import GridNode
from grid.ratelimit import hit
from grid.scope import scope_queryset
from grid.validators import parse_id

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_SPAN = datetime.timedelta(days=90)
# The notes a reporter's client may read: what was done about the report, not the staff's own
# trail (a phone callback, a dispatch, "viewed the reporter's phone").
PUBLIC_NOTES = {"resolve", "close", "reject", "duplicate", "reopen"}
POSTS_PER_MINUTE = 120


def issue_key(*, name: str, node: GridNode, created_by) -> tuple[ApiClient, str]:
    """Create a client and return it with its key; the key is shown once and stored only hashed."""
    key = "o311_" + secrets.token_urlsafe(24)
    client = ApiClient.objects.create(
        name=name, node=node, key_prefix=key[:8], key_hash=_hash(key), created_by=created_by
    )
    return client, key


def revoke_key(*, client: ApiClient) -> None:
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _error(status: int, description: str) -> JsonResponse:
    return JsonResponse([{"code": status, "description": str(description)}], status=status, safe=False)


def _client(request) -> ApiClient | None:
    key = request.POST.get("api_key") or request.GET.get("api_key")
    if not key:
        return None
    client = (
        ApiClient.objects.select_related("node").filter(key_hash=_hash(key), revoked_at__isnull=True).first()
    )
    if client is not None:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now())
    return client


def _w3c(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _format_check(response_format: str):
    if response_format != "json":
        return _error(400, _("Only the JSON format is offered; use .json."))
    return None


@require_GET
def discovery(request, response_format="json"):
    if (bad := _format_check(response_format)) is not None:
        return bad
    base = (
        request.build_absolute_uri(reverse("open311-discovery", kwargs={"response_format": "json"})).rsplit(
            "/", 1
        )[0]
        + "/"
    )
    return JsonResponse(
        {
            "changeset": "2026-11-21T00:00:00+08:00",
            "contact": _("The street office's service centre."),
            "key_service": _("API keys are issued by community staff in the admin (Open311 clients)."),
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": base,
                    "changeset": "2026-11-21T00:00:00+08:00",
                    "type": "production",
                    "formats": ["application/json"],
                }
            ],
        }
    )


def _service(category: TicketCategory) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": False,
        "type": "realtime",
        "keywords": "",
        "group": category.group,
    }


@require_GET
def service_list(request, response_format="json"):
    if (bad := _format_check(response_format)) is not None:
        return bad
    categories = TicketCategory.objects.filter(is_active=True).order_by("order", "code")
    return JsonResponse([_service(c) for c in categories], safe=False)


@require_GET
def service_definition(request, service_code, response_format="json"):
    if (bad := _format_check(response_format)) is not None:
        return bad
    category = TicketCategory.objects.filter(code=service_code, is_active=True).first()
    if category is None:
        return _error(404, _("No service has this code."))
    return JsonResponse({"service_code": category.code, "attributes": []})


def _readable_tickets(request, client: ApiClient | None):
    if client is not None:
        return Ticket.objects.filter(node__path__startswith=client.node.path)
    if request.user.is_authenticated:
        return scope_queryset(Ticket.objects.all(), request.user)
    return None


def _serialize(request, tickets: list[Ticket]) -> list[dict]:
    """All requests in three queries whatever their number: tickets, their handlers, their photos."""
    steplen = GridNode.steplen
    wanted = {
        NodeLevel.GRID: Level.GRID,
        NodeLevel.COMMUNITY: Level.COMMUNITY,
        NodeLevel.STREET: Level.STREET,
    }
    prefixes = {t.node.path[:end] for t in tickets for end in range(steplen, len(t.node.path) + 1, steplen)}
    handlers = {
        (node.path, wanted[node.level]): node.name
        for node in GridNode.objects.filter(path__in=prefixes, level__in=list(wanted)).only(
            "path", "level", "name"
        )
    }
    rows = []
    for ticket in tickets:
        agency = ""
        for end in range(len(ticket.node.path), 0, -steplen):
            name = handlers.get((ticket.node.path[:end], ticket.level))
            if name:
                agency = name
                break
        photo = next(iter(ticket.photos.all()), None)
        closed = ticket.status in FINAL_STATUSES
        last_note = next(
            (e.note for e in reversed(list(ticket.events.all())) if e.note and e.action in PUBLIC_NOTES), ""
        )
        rows.append(
            {
                "service_request_id": str(ticket.pk),
                "status": "closed" if closed else "open",
                "status_notes": last_note
                if closed or ticket.status == "resolved"
                else ticket.get_status_display(),
                "service_name": ticket.category.name,
                "service_code": ticket.category.code,
                "description": ticket.description,
                "agency_responsible": agency,
                "service_notice": "",
                "requested_datetime": _w3c(ticket.created_at),
                "updated_datetime": _w3c(ticket.updated_at),
                "expected_datetime": _w3c(ticket.resolution_due),
                "address": ticket.location_text or ticket.node.name,
                "address_id": ticket.node.code,
                "zipcode": None,
                "lat": ticket.latitude,
                "long": ticket.longitude,
                "media_url": request.build_absolute_uri(photo.image.url) if photo else None,
            }
        )
    return rows


def _with_display(queryset):
    from demands.models import TicketEvent

    return queryset.select_related("category", "node").prefetch_related(
        Prefetch("photos", queryset=TicketPhoto.objects.order_by("uploaded_at", "id")),
        Prefetch(
            "events",
            queryset=TicketEvent.objects.only("id", "ticket_id", "action", "note").order_by(
                "created_at", "id"
            ),
        ),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, response_format="json"):
    if (bad := _format_check(response_format)) is not None:
        return bad
    if request.method == "POST":
        return _create(request)
    client = _client(request)
    if (request.GET.get("api_key") and client is None) or (
        client is None and not request.user.is_authenticated
    ):
        return _error(403, _("A valid api_key is required."))
    tickets = _readable_tickets(request, client)
    params = request.GET
    if params.get("service_request_id"):
        ids = [pk for pk in map(parse_id, params["service_request_id"].split(",")) if pk is not None]
        tickets = tickets.filter(pk__in=ids)
    else:
        if params.get("service_code"):
            tickets = tickets.filter(category__code__in=params["service_code"].split(","))
        end = _when(params["end_date"]) if params.get("end_date") else timezone.now()
        start = _when(params["start_date"]) if params.get("start_date") else None
        if (params.get("end_date") and end is None) or (params.get("start_date") and start is None):
            return _error(400, _("Dates must be W3C date-times, e.g. 2026-11-01T00:00:00+08:00."))
        start = start or end - DEFAULT_SPAN
        if end - start > DEFAULT_SPAN:
            return _error(400, _("A search may not span more than 90 days."))
        tickets = tickets.filter(created_at__gte=start, created_at__lte=end)
        statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return _error(400, _("status is open, closed or both."))
        if statuses == {"open"}:
            tickets = tickets.exclude(status__in=FINAL_STATUSES)
        elif statuses == {"closed"}:
            tickets = tickets.filter(status__in=FINAL_STATUSES)
    tickets = list(_with_display(tickets).order_by("-created_at")[:MAX_RESULTS])
    return JsonResponse(_serialize(request, tickets), safe=False)


@require_GET
def request_detail(request, service_request_id, response_format="json"):
    if (bad := _format_check(response_format)) is not None:
        return bad
    client = _client(request)
    if (request.GET.get("api_key") and client is None) or (
        client is None and not request.user.is_authenticated
    ):
        return _error(403, _("A valid api_key is required."))
    tickets = list(_with_display(_readable_tickets(request, client).filter(pk=service_request_id)))
    if not tickets:
        return _error(404, _("No request has this id."))
    return JsonResponse(_serialize(request, tickets), safe=False)


def _when(value: str) -> datetime.datetime | None:
    """A W3C date-time parameter, or None when it is not one: a date-time without an offset is
    China time, an impossible date or offset is no date."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:  # well formed, not a date: 2026-02-30
        return None
    if moment is None or not 1900 <= moment.year <= 2999:
        return None
    if timezone.is_naive(moment):
        return timezone.make_aware(moment)
    offset = moment.utcoffset()
    if abs(offset) > datetime.timedelta(hours=14):
        return None
    return moment


def _place(client: ApiClient, data) -> GridNode | str | None:
    """The node a request is about: address_id (a node code) or the nearest building to lat/long,
    within the client's subtree. Returns an error message string when it cannot be placed."""
    subtree = GridNode.objects.filter(path__startswith=client.node.path, archived_at__isnull=True)
    if data.get("address_id"):
        node = subtree.filter(code=data["address_id"]).first()
        return node or _("address_id is not a place in this client's area.")
    try:
        lat, lng = float(data.get("lat", "")), float(data.get("long", ""))
    except ValueError:
        return _("Give address_id (a building or unit code) or lat and long.")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return _("lat/long out of range.")
    best, best_distance = None, math.inf
    for node in subtree.filter(level__in=[NodeLevel.BUILDING, NodeLevel.COMPOUND]).only(
        "id", "geometry", "path"
    ):
        geometry = node.geometry or {}
        if geometry.get("type") != "Point":
            continue
        x, y = geometry["coordinates"][:2]
        distance = (x - lng) ** 2 + (y - lat) ** 2
        if distance < best_distance:
            best, best_distance = node, distance
    # Farther than about 2 km from any building of the area: not ours.
    if best is None or best_distance > 0.02**2:
        return _("The location is not within this client's area.")
    return best


def _create(request):
    client = _client(request)
    if not request.POST.get("api_key"):
        return _error(400, _("api_key is required."))
    if client is None:
        return _error(403, _("The api_key is not valid or has been revoked."))
    if not hit(f"open311:{client.pk}", limit=POSTS_PER_MINUTE, window_seconds=60):
        return _error(429, _("Too many requests; slow down."))
    data = request.POST
    category = TicketCategory.objects.filter(code=data.get("service_code", ""), is_active=True).first()
    if category is None:
        return _error(400, _("service_code is missing or unknown."))
    if not data.get("description", "").strip():
        return _error(400, _("description is required."))
    place = _place(client, data)
    if isinstance(place, str):
        return _error(400, place)
    lat = lng = None
    if data.get("lat") and data.get("long"):
        try:
            lat, lng = float(data["lat"]), float(data["long"])
        except ValueError:
            return _error(400, _("lat/long must be numbers."))
        if not (math.isfinite(lat) and math.isfinite(lng)):
            return _error(400, _("lat/long must be numbers."))
    name = " ".join(part for part in (data.get("last_name", ""), data.get("first_name", "")) if part).strip()
    try:
        ticket = services.ticket_create(
            category=category,
            node=place,
            source=TicketSource.OPEN311,
            description=data["description"][:2000],
            location_text=data.get("address_string", "")[:200],
            latitude=lat,
            longitude=lng,
            reporter_name=name[:50] or client.name[:50],
            reporter_phone=data.get("phone", ""),
        )
    except ValidationError as error:
        return _error(400, "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))
    return JsonResponse(
        [
            {
                "service_request_id": str(ticket.pk),
                "service_notice": "",
                "account_id": data.get("account_id") or None,
            }
        ],
        status=201,
        safe=False,
    )

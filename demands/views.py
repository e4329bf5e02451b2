import contextlib

import segno
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from demands import selectors, services, workflow
from demands.choices import FINAL_STATUSES, TicketSource
from demands.forms import PatrolReportForm, PublicReportForm, RatingForm, TicketActionForm
from grid.choices import NodeLevel
from grid.errors import ConflictError
from grid.idempotency import run_once, scope_for
from grid.models import GridNode
from grid.ratelimit import client_ip, hit
from grid.scope import node_in_scope, object_in_scope, scope_queryset
from grid.validators import parse_id
from residents.identity import mask_phone

# Public pages: per client address.
REPORTS_PER_10_MIN, REPORTS_PER_DAY = 5, 20
LOOKUPS_PER_MIN = 60


def _too_many(request):
    return render(request, "public/too_many.html", status=429)


def _public_node(code: str) -> GridNode:
    node = GridNode.objects.filter(code=code, archived_at__isnull=True).select_related("parent").first()
    if node is None or node.level == NodeLevel.STREET:
        raise Http404
    return node


def _form_errors(form, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


@require_http_methods(["GET", "POST"])
def public_report(request, code):
    """What the QR code on a building opens: report a problem without an account (码上提)."""
    node = _public_node(code)
    form = PublicReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        ip = client_ip(request)
        if not (
            hit(f"report:10m:{ip}", limit=REPORTS_PER_10_MIN, window_seconds=600)
            and hit(f"report:day:{ip}", limit=REPORTS_PER_DAY, window_seconds=86400)
        ):
            return _too_many(request)
        if form.is_valid():
            data = form.cleaned_data

            def create():
                ticket = services.ticket_create(
                    category=data["category"],
                    node=node,
                    source=TicketSource.QR,
                    description=data["description"],
                    location_text=data["location_text"],
                    reporter_name=data["reporter_name"],
                    reporter_phone=data["reporter_phone"],
                    photos=data["photos"],
                )
                return 201, {"tracking_code": ticket.tracking_code}

            try:
                _status, body, _replayed = run_once(
                    scope="public",
                    key=data["idempotency_key"],
                    endpoint=request.path,
                    request=request,
                    action=create,
                )
            except ValidationError as error:
                _form_errors(form, error)
            except ConflictError as error:
                form.add_error(None, error.message)
            else:
                return redirect("public-track", code=body["tracking_code"])
    return render(request, "public/report.html", {"node": node, "form": form})


def _public_events(ticket):
    """What a resident sees of the history: the steps, without staff names or internal notes."""
    shown = {"submit", "assign", "accept", "resolve", "escalate", "close", "reopen", "reject", "duplicate"}
    return [event for event in ticket.events.all() if event.action in shown]


@require_http_methods(["GET", "POST"])
def public_track(request, code):
    """Follow a report by its tracking code; rate it once it is resolved."""
    if not hit(f"track:{client_ip(request)}", limit=LOOKUPS_PER_MIN, window_seconds=60):
        return _too_many(request)
    ticket = selectors.public_ticket(code)
    if ticket is None:
        raise Http404
    can_rate = services.may_rate(ticket)
    form = RatingForm(request.POST or None) if can_rate else None
    if request.method == "POST" and form is not None and form.is_valid():
        # Rated meanwhile (a second tap on a slow network): just show the outcome.
        with contextlib.suppress(ConflictError):
            services.ticket_rate(
                ticket=ticket, rating=form.cleaned_data["rating"], comment=form.cleaned_data["comment"]
            )
        return redirect("public-track", code=ticket.tracking_code)
    resolution_photos = [p for p in ticket.photos.all() if p.event_id and p.event.action == "resolve"]
    return render(
        request,
        "public/track.html",
        {
            "ticket": ticket,
            "events": _public_events(ticket),
            "form": form,
            "resolution_photos": resolution_photos,
            "finished": ticket.status in FINAL_STATUSES,
        },
    )


# Phone pages for grid workers -------------------------------------------------------------


@login_required
@permission_required("demands.view_ticket", raise_exception=True)
def mobile_queue(request):
    tickets = selectors.worker_queue(user=request.user)[:100]
    return render(request, "mobile/queue.html", {"tickets": tickets})


def _mobile_ticket(request, pk):
    return get_object_or_404(selectors.ticket_detail_queryset(user=request.user), pk=pk)


@login_required
@permission_required("demands.view_ticket", raise_exception=True)
@require_http_methods(["GET", "POST"])
def mobile_ticket(request, pk):
    ticket = _mobile_ticket(request, pk)
    may_act = object_in_scope(request.user, ticket, "demands.change_ticket")
    form = TicketActionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_act:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            handlers = {
                "accept": lambda: services.ticket_accept(ticket=ticket, actor=request.user),
                "resolve": lambda: services.ticket_resolve(
                    ticket=ticket, actor=request.user, note=data["note"], photos=data["photos"]
                ),
                "return": lambda: services.ticket_return(
                    ticket=ticket, actor=request.user, note=data["note"]
                ),
                "escalate": lambda: services.ticket_escalate(
                    ticket=ticket, actor=request.user, note=data["note"]
                ),
            }

            def act():
                handlers[data["action"]]()
                return 200, {"ticket": ticket.pk}

            try:
                run_once(
                    scope=scope_for(request),
                    key=data["idempotency_key"],
                    endpoint=request.path,
                    request=request,
                    action=act,
                )
            except ValidationError as error:
                _form_errors(form, error)
            except ConflictError as error:
                form.add_error(None, error.message)
            else:
                return redirect("mobile-ticket", pk=ticket.pk)
        ticket = _mobile_ticket(request, pk)
    allowed = set(workflow.allowed_actions(ticket.status)) if may_act else set()
    if ticket.assignee_id != request.user.pk:
        allowed.discard("resolve")
    return render(
        request,
        "mobile/ticket.html",
        {
            "ticket": ticket,
            "form": form if request.method == "POST" else TicketActionForm(),
            "allowed": allowed,
            "phone_masked": mask_phone(ticket.reporter_phone),
            "may_call": ticket.reporter_phone
            and object_in_scope(request.user, ticket, "demands.reveal_reporter_ticket"),
        },
    )


class _DialRedirect(HttpResponseRedirect):
    allowed_schemes = ["tel"]


@login_required
@require_http_methods(["POST"])
def mobile_call_reporter(request, pk):
    ticket = _mobile_ticket(request, pk)
    if not ticket.reporter_phone or not object_in_scope(
        request.user, ticket, "demands.reveal_reporter_ticket"
    ):
        raise PermissionDenied
    return _DialRedirect(f"tel:{services.phone_reveal(ticket=ticket, actor=request.user)}")


@login_required
@permission_required("demands.add_ticket", raise_exception=True)
@require_http_methods(["GET", "POST"])
def mobile_report(request):
    """A grid worker's quick report of what they found on patrol."""
    nodes = scope_queryset(
        GridNode.objects.filter(archived_at__isnull=True).exclude(level=NodeLevel.STREET),
        request.user,
        permission="demands.add_ticket",
    ).only("id", "name", "depth", "path")
    form = PatrolReportForm(request.POST or None, request.FILES or None, nodes=nodes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def create():
            ticket = services.ticket_create(
                category=data["category"],
                node=data["node"],
                source=TicketSource.PATROL,
                description=data["description"],
                location_text=data["location_text"],
                created_by=request.user,
                photos=data["photos"],
            )
            return 201, {"ticket": ticket.pk}

        try:
            _status, body, _replayed = run_once(
                scope=scope_for(request),
                key=data["idempotency_key"],
                endpoint=request.path,
                request=request,
                action=create,
            )
        except ValidationError as error:
            _form_errors(form, error)
        except ConflictError as error:
            form.add_error(None, error.message)
        else:
            return redirect("mobile-ticket", pk=body["ticket"])
    return render(request, "mobile/report.html", {"form": form})


# Staff: QR codes to print --------------------------------------------------------------------


@login_required
@permission_required("demands.dispatch_ticket", raise_exception=True)
def qr_sheet(request):
    """Printable QR codes of the buildings (and their units) under a node."""
    node_id = request.GET.get("node", "")
    if node_id:
        node_pk = parse_id(node_id)
        node = GridNode.objects.filter(pk=node_pk).first() if node_pk is not None else None
        if node is None or not node_in_scope(request.user, node, "demands.dispatch_ticket"):
            raise Http404
    else:
        node = (
            scope_queryset(GridNode.objects.all(), request.user, permission="demands.dispatch_ticket")
            .order_by("depth", "path")
            .first()
        )
        if node is None:
            raise PermissionDenied
    levels = [NodeLevel.BUILDING] + ([NodeLevel.UNIT] if request.GET.get("units") == "1" else [])
    targets = (
        GridNode.objects.filter(path__startswith=node.path, level__in=levels, archived_at__isnull=True)
        .select_related("parent")
        .order_by("path")
    )
    page = Paginator(targets, 60).get_page(request.GET.get("page"))
    base = request.build_absolute_uri("/")[:-1]
    cards = []
    for target in page:
        url = base + reverse("public-report", args=[target.code])
        cards.append({"node": target, "url": url, "svg": segno.make(url, error="m").svg_inline(scale=4)})
    return render(
        request,
        "demands/qr_sheet.html",
        {"node": node, "cards": cards, "page": page, "units": request.GET.get("units") == "1"},
    )

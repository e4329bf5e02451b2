import segno
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from demands import lists as demand_lists
from grid import xlsx
from grid.errors import ConflictError
from grid.idempotency import run_once, scope_for
from grid.models import GridNode, User
from grid.scope import object_in_scope, scope_queryset
from grid.validators import parse_id
from residents.models import Household
from services import selectors, services
from services.assessment import DEFINITIONS
from services.choices import ParticipantRole
from services.eligibility import log_listing, visible_eligible
from services.forms import SignInForm, VisitForm
from services.models import AssessmentRound, Participation, ServiceEvent


@login_required
@permission_required("services.add_visit", raise_exception=True)
def mobile_visits(request):
    """Households in my area due a home visit, by colour cadence: red first."""
    households = list(selectors.overdue_households(user=request.user)[:200])
    return render(
        request, "mobile/visits.html", {"households": households, "cadence": services.cadence_days()}
    )


@login_required
@permission_required("services.add_visit", raise_exception=True)
@require_http_methods(["GET", "POST"])
def mobile_visit_new(request, household_id):
    household = get_object_or_404(
        scope_queryset(
            Household.objects.select_related("node", "node__parent"),
            request.user,
            permission="services.add_visit",
        ),
        pk=household_id,
    )
    form = VisitForm(
        request.POST or None, request.FILES or None, initial={"colour": household.colour or "blue"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def record():
            visit = services.visit_record(
                household=household,
                visitor=request.user,
                findings=data["findings"],
                colour=data["colour"],
                colour_reason=data["colour_reason"],
                photos=data["photos"],
                ticket={"category": data["ticket_category"], "description": data["ticket_description"]}
                if data["raise_ticket"]
                else None,
                demand={"title": data["demand_title"], "kind": data["demand_kind"] or "other"}
                if data["raise_demand"]
                else None,
            )
            return 201, {"visit": visit.pk}

        try:
            run_once(
                scope=scope_for(request),
                key=data["idempotency_key"],
                endpoint=request.path,
                request=request,
                action=record,
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        except ConflictError as error:
            form.add_error(None, error.message)
        else:
            return redirect("mobile-visits")
    members = household.members.filter(status="active").prefetch_related("care_tags")
    return render(
        request, "mobile/visit_form.html", {"household": household, "form": form, "members": members}
    )


@login_required
@permission_required("services.view_serviceevent", raise_exception=True)
def mobile_events(request):
    today = timezone.localdate()
    start = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    events = (
        selectors.event_list(user=request.user)
        .filter(starts_at__gte=start - timezone.timedelta(days=1))
        .order_by("starts_at")[:30]
    )
    return render(request, "mobile/events.html", {"events": events})


@login_required
def mobile_points(request):
    """My points (时间银行): the balance of each of my accounts, its latest movements, and what the
    communities offer for them (exchanged at the community office). Only my own accounts."""
    from django.db.models import Sum

    from services.models import PointsAccount, PointsEntry, Reward

    accounts = list(
        PointsAccount.objects.filter(Q(user=request.user) | Q(member__user=request.user))
        .select_related("community")
        .annotate(total=Sum("entries__amount"))
        .order_by("community__path")
    )
    entries = (
        PointsEntry.objects.filter(account__in=[account.pk for account in accounts])
        .select_related("transaction", "account__community")
        .order_by("-transaction__created_at", "-pk")[:30]
    )
    rewards = (
        Reward.objects.filter(community__in=[account.community_id for account in accounts], is_active=True)
        .exclude(stock=0)
        .select_related("community")
        .order_by("cost", "name")[:30]
    )
    return render(
        request,
        "mobile/points.html",
        {
            "accounts": accounts,
            "entries": list(entries),
            "rewards": list(rewards),
            "several": len(accounts) > 1,
        },
    )


CANDIDATES_SHOWN = 200


def _candidates(event: ServiceEvent) -> tuple[list[tuple[str, str]], int]:
    """People an organizer can tick, and how many there are in all: those working in the
    community, the event's own place first, then by name."""
    from grid.models import Assignment

    community = demand_lists.community_of(event.node)
    current = Assignment.objects.current()
    users = (
        User.objects.filter(assignments__in=current.filter(node__path__startswith=community.path))
        .annotate(
            here=Exists(current.filter(user=OuterRef("pk"), node__path__startswith=event.node.path)),
        )
        .distinct()
        .order_by("-here", "name", "pk")
    )
    shown = list(users[: CANDIDATES_SHOWN + 1])
    total = len(shown) if len(shown) <= CANDIDATES_SHOWN else users.count()
    return [(str(u.pk), str(u)) for u in shown[:CANDIDATES_SHOWN]], total


@login_required
@permission_required("services.add_participation", raise_exception=True)
@require_http_methods(["GET", "POST"])
def mobile_event_signin(request, pk):
    """The organizer ticks who came; the event's QR code lets participants sign in themselves."""
    event = get_object_or_404(selectors.event_list(user=request.user), pk=pk)
    if not object_in_scope(request.user, event, "services.add_participation"):
        raise PermissionDenied
    form = SignInForm(request.POST or None)
    choices, candidates = _candidates(event)
    form.fields["participants"].choices = choices
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def tick():
            from grid.choices import Role
            from grid.models import Assignment

            # Who is a grid worker, in one query rather than one per person ticked.
            workers = set(
                Assignment.objects.current()
                .filter(
                    user__in=data["participants"],
                    role__in=[Role.GRID_CHIEF, Role.GRID_WORKER, Role.PART_TIME_WORKER],
                )
                .values_list("user_id", flat=True)
            )
            for user in User.objects.filter(pk__in=data["participants"]):
                role = ParticipantRole.GRID_WORKER if user.pk in workers else ParticipantRole.VOLUNTEER
                services.sign_in(event=event, role=role, user=user, by=request.user)
            if data["extra_name"]:
                services.sign_in(
                    event=event, role=ParticipantRole.VOLUNTEER, name=data["extra_name"], by=request.user
                )
            return 200, {"event": event.pk}

        try:
            run_once(
                scope=scope_for(request),
                key=data["idempotency_key"],
                endpoint=request.path,
                request=request,
                action=tick,
            )
            return redirect("mobile-event-signin", pk=event.pk)
        except (ValidationError, ConflictError) as error:
            form.add_error(None, getattr(error, "message", None) or "; ".join(error.messages))
    present = event.participations.order_by("checked_in_at")
    checkin_url = request.build_absolute_uri(f"/e/{event.checkin_code}/")
    return render(
        request,
        "mobile/event_signin.html",
        {
            "event": event,
            "form": form,
            "present": present,
            "more": candidates - len(choices),
            "checkin_url": checkin_url,
            "qr": segno.make(checkin_url, error="m").svg_inline(scale=4),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def self_checkin(request, code):
    """A participant scans the event's QR code and signs themselves in (once)."""
    event = (
        ServiceEvent.objects.filter(checkin_code=code, cancelled_at__isnull=True)
        .select_related("node")
        .first()
    )
    if event is None:
        raise Http404
    mine = Participation.objects.filter(event=event, user=request.user).first()
    refusal = ""
    if request.method == "POST" and mine is None:
        role = (
            ParticipantRole.IN_SERVICE_MEMBER
            if request.user.party_memberships.exists()
            else ParticipantRole.VOLUNTEER
        )
        try:
            mine = services.sign_in(event=event, role=role, user=request.user)
        except ConflictError as error:
            refusal = error.message
        except ValidationError as error:
            refusal = "；".join(error.messages)
    return render(request, "mobile/checkin.html", {"event": event, "mine": mine, "refusal": refusal})


@login_required
@permission_required("services.view_programme", raise_exception=True)
def programme_eligible(request, pk):
    """The live list of residents eligible for a programme, with its deliveries; Excel export."""
    programme = get_object_or_404(selectors.programme_list(user=request.user), pk=pk)
    residents, sensitive = visible_eligible(programme, request.user)
    residents = residents.select_related("household", "household__node", "household__node__parent").order_by(
        "household__node__path", "household__room"
    )
    if request.GET.get("format") == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        xlsx.append(sheet, [_("Name"), _("Gender"), _("Age"), _("ID number"), _("Address")])
        listed = list(residents)
        log_listing(request, listed, sensitive)
        for resident in listed:
            xlsx.append(
                sheet,
                [
                    resident.name,
                    resident.get_gender_display(),
                    resident.age,
                    resident.id_number_masked,
                    resident.household.address,
                ],
            )
        return xlsx.response(workbook, f"programme-{programme.pk}-eligible.xlsx")
    page = list(residents[:500])
    log_listing(request, page, sensitive)
    return render(
        request,
        "services/programme.html",
        {"programme": programme, "residents": page, "count": residents.count()},
    )


LEADERBOARD_PAGE_SIZE = 50


@login_required
@permission_required("services.view_assessment", raise_exception=True)
def leaderboard(request):
    """The grid competition leaderboard of a published round (staff may preview drafts): a page
    of grids in rank order, for the whole street or one community, in a fixed number of queries."""
    from django.core.paginator import Paginator

    rounds = scope_queryset(
        AssessmentRound.objects.select_related("street"),
        request.user,
        permission="services.view_assessmentround",
    )
    round_id = parse_id(request.GET.get("round"))
    round_ = (
        rounds.filter(pk=round_id).first()
        if round_id is not None
        else rounds.filter(status="published").order_by("-month").first()
    )
    if round_ is None:
        return render(request, "services/leaderboard.html", {"round": None, "rows": []})
    rows = selectors.assessment_list(user=request.user).filter(round=round_)
    communities = list(
        GridNode.objects.filter(pk__in=rows.values("grid__parent_id"))
        .order_by("path")
        .values_list("pk", "name")
    )
    community = parse_id(request.GET.get("community"))
    if community not in dict(communities):
        community = None
    if community is not None:
        rows = rows.filter(grid__parent_id=community)
    page = Paginator(rows, LEADERBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    codes = [definition.code for definition in DEFINITIONS]
    table = [
        {
            "rank": assessment.rank_in_street,
            "community_rank": assessment.rank_in_community,
            "grid": assessment.grid.name,
            "community": assessment.grid.parent.name if assessment.grid.parent else "",
            "score": assessment.score,
            "values": [assessment.values.get(code, "") for code in codes],
        }
        for assessment in page.object_list
    ]
    query = f"round={round_.pk}" + (f"&community={community}" if community is not None else "")
    return render(
        request,
        "services/leaderboard.html",
        {
            "round": round_,
            "rows": table,
            "page": page,
            "query": query,
            "communities": communities,
            "community": community,
            "definitions": DEFINITIONS,
            "rounds": rounds.order_by("-month")[:12],
        },
    )

"""Pages for the lists: the public wish wall with its praise board, and the phone page where a
registered party member claims micro-wishes."""

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from demands import lists, selectors
from demands.choices import ClaimStatus, DemandStatus, TopicStatus
from demands.forms import IdempotentForm
from demands.models import Claim, Demand, Topic
from grid.choices import NodeLevel
from grid.errors import ConflictError
from grid.i18n import recorded_text
from grid.idempotency import run_once, scope_for
from grid.models import GridNode
from grid.ratelimit import client_ip, hit
from grid.validators import parse_id


def wish_wall(request, code):
    """A community's micro-wishes and its praise board (表扬榜), for anyone; no personal data."""
    if not hit(f"wall:{client_ip(request)}", limit=60, window_seconds=60):
        return render(request, "public/too_many.html", status=429)
    community = GridNode.objects.filter(
        code=code, level=NodeLevel.COMMUNITY, archived_at__isnull=True
    ).first()
    if community is None:
        raise Http404
    wishes = (
        Demand.objects.filter(node__path__startswith=community.path, is_micro_wish=True)
        .exclude(status=DemandStatus.CANCELLED)
        .order_by("status", "-created_at")
    )
    open_wishes = [w for w in wishes if w.status in (DemandStatus.OPEN, DemandStatus.CLAIMED)][:100]
    praise_claims = (
        Claim.objects.filter(community=community, status=ClaimStatus.FULFILLED)
        .filter(Q(feedback_rating__gte=4) | Q(feedback_rating__isnull=True))
        .select_related("demand", "project", "unit", "member")
        .order_by("-fulfilled_at")[:30]
    )
    praised_topics = Topic.objects.filter(
        node__path__startswith=community.path, status=TopicStatus.DONE, praised=True
    ).order_by("-decided_at")[:10]
    fulfilled = sum(1 for w in wishes if w.status == DemandStatus.FULFILLED)
    return render(
        request,
        "public/wish_wall.html",
        {
            "community": community,
            "wishes": open_wishes,
            "fulfilled": fulfilled,
            "total": len(wishes),
            "praise_claims": praise_claims,
            "praised_topics": praised_topics,
        },
    )


@login_required
@permission_required("demands.view_demand", raise_exception=True)
@require_http_methods(["GET", "POST"])
def mobile_wishes(request):
    """Open micro-wishes where I am registered, and a one-tap claim as myself."""
    memberships = list(selectors.my_memberships(request.user))
    wishes = (
        selectors.demand_list(user=request.user)
        .filter(is_micro_wish=True, status__in=[DemandStatus.OPEN, DemandStatus.CLAIMED])
        .order_by("status", "-created_at")[:100]
    )
    form = IdempotentForm(request.POST or None)
    error = None
    action = None
    if request.method == "POST" and "withdraw" in request.POST:
        # Giving back my own claim: the wish opens again for others.
        mine = get_object_or_404(
            Claim.objects.filter(member__in=memberships), pk=parse_id(request.POST.get("withdraw")) or 0
        )

        def action():
            lists.claim_withdraw(claim=mine, note=recorded_text(gettext_lazy("Given back by the claimant.")))
            return 200, {"claim": mine.pk}

    elif request.method == "POST":
        demand = get_object_or_404(
            selectors.demand_list(user=request.user), pk=parse_id(request.POST.get("demand")) or 0
        )
        if not memberships:
            error = "no_membership"
        else:

            def action():
                made = lists.claim_create(demand=demand, member=memberships[0], actor=request.user)
                return 201, {"claim": made.pk}

    if action is not None and form.is_valid():
        try:
            run_once(
                scope=scope_for(request),
                key=form.cleaned_data["idempotency_key"],
                endpoint=request.path,
                request=request,
                action=action,
            )
            return redirect("mobile-wishes")
        except (ConflictError, ValidationError) as refusal:
            error = getattr(refusal, "message", None) or "; ".join(refusal.messages)
    mine = (
        Claim.objects.filter(member__in=memberships)
        .select_related("demand", "project")
        .order_by("-claimed_at")[:20]
    )
    return render(
        request,
        "mobile/wishes.html",
        {
            "wishes": wishes,
            "mine": mine,
            "form": IdempotentForm(),
            "error": error,
            "memberships": memberships,
        },
    )

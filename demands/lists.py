"""Writes for the three lists, the 双报到 registration and two-way claiming."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from demands.choices import (
    ACTIVE_CLAIM_STATUSES,
    BookingStatus,
    ClaimStatus,
    DemandStatus,
    ProjectStatus,
    RegistrationStatus,
)
from demands.claim_flow import CLAIM
from demands.metrics import DEMAND_METRICS
from demands.models import Claim, CommunityRegistration, Demand, Milestone, Project, Resource, ResourceBooking
from demands.project_flow import PROJECT
from grid import history, rollup
from grid.choices import NodeLevel, Role
from grid.errors import ConflictError
from grid.i18n import recorded_text
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership, User
from grid.scope import forget_scope


def community_of(node: GridNode) -> GridNode:
    """The community a node belongs to (itself if it is one)."""
    if node.level == NodeLevel.COMMUNITY:
        return node
    steplen = GridNode.steplen
    paths = [node.path[:end] for end in range(steplen, len(node.path), steplen)]
    community = GridNode.objects.filter(path__in=paths, level=NodeLevel.COMMUNITY).first()
    if community is None:
        raise ValidationError({"node": _("Choose a place inside a community.")})
    return community


def _one_party(unit, member) -> None:
    if (unit is None) == (member is None):
        raise ValidationError(_("Name either a co-building unit or a party member."))


# Registration (双报到) ---------------------------------------------------------------------


@transaction.atomic
def registration_request(
    *,
    community: GridNode,
    unit: CoBuildingUnit | None = None,
    member: PartyMembership | None = None,
    note: str = "",
) -> CommunityRegistration:
    _one_party(unit, member)
    if community.level != NodeLevel.COMMUNITY:
        raise ValidationError({"community": _("Units and party members register with a community.")})
    existing = CommunityRegistration.objects.filter(
        community=community,
        unit=unit,
        member=member,
        status__in=[RegistrationStatus.PENDING, RegistrationStatus.ACCEPTED],
    ).first()
    if existing is not None:
        raise ConflictError(_("Already registered or waiting for a decision."), code="already_registered")
    try:
        with transaction.atomic():
            return CommunityRegistration.objects.create(
                community=community, unit=unit, member=member, note=note.strip()
            )
    except IntegrityError as error:  # the same request, sent twice at once: the first one stands
        raise ConflictError(
            _("Already registered or waiting for a decision."), code="already_registered"
        ) from error


@transaction.atomic
def registration_decide(
    *, registration: CommunityRegistration, accept: bool, actor: User
) -> CommunityRegistration:
    """Accept or reject a pending registration. An accepted party member with an account gets the
    volunteer role in the community, which lets them see its lists and claim from them."""
    updated = CommunityRegistration.objects.filter(
        pk=registration.pk, status=RegistrationStatus.PENDING
    ).update(
        status=RegistrationStatus.ACCEPTED if accept else RegistrationStatus.REJECTED,
        decided_at=timezone.now(),
        decided_by=actor,
    )
    if not updated:
        raise ConflictError(_("This registration has already been decided."), code="already_decided")
    registration.refresh_from_db()
    member = registration.member
    if accept and member is not None and member.user_id is not None:
        assignment = Assignment.objects.filter(
            user_id=member.user_id, node=registration.community, role=Role.VOLUNTEER, ended_on__isnull=True
        ).first()
        if assignment is None:
            Assignment.objects.create(
                user_id=member.user_id, node=registration.community, role=Role.VOLUNTEER
            )
        forget_scope(member.user)
    return registration


@transaction.atomic
def registration_withdraw(*, registration: CommunityRegistration) -> CommunityRegistration:
    """Withdraw a pending or accepted registration; an accepted member's volunteer role in the
    community ends with it. A registration already withdrawn or rejected stays as it is (and
    never ends the role a later registration gave)."""
    was = (
        CommunityRegistration.objects.filter(pk=registration.pk)
        .values_list("status", flat=True)
        .select_for_update()
        .first()
    )
    if was not in (RegistrationStatus.PENDING, RegistrationStatus.ACCEPTED):
        raise ConflictError(_("This registration is no longer in force."), code="not_in_force")
    CommunityRegistration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.WITHDRAWN)
    # A party that leaves the community gives back what it had taken on there: the demands open
    # again for others instead of waiting on someone no longer registered.
    unit, member = registration.unit, registration.member
    for claim in Claim.objects.filter(
        claimant_filter(unit=unit, member=member),
        community=registration.community,
        status__in=ACTIVE_CLAIM_STATUSES,
    ):
        claim_withdraw(
            claim=claim,
            note=recorded_text(gettext_lazy("The registration with the community was withdrawn.")),
        )
    if was == RegistrationStatus.ACCEPTED and member is not None and member.user_id is not None:
        Assignment.objects.filter(
            user_id=member.user_id, node=registration.community, role=Role.VOLUNTEER, ended_on__isnull=True
        ).update(ended_on=timezone.localdate())
    registration.refresh_from_db()
    return registration


def is_registered(*, community: GridNode, unit=None, member=None) -> bool:
    return CommunityRegistration.objects.filter(
        community=community, unit=unit, member=member, status=RegistrationStatus.ACCEPTED
    ).exists()


# Demands ----------------------------------------------------------------------------------


@transaction.atomic
def demand_create(
    *, node: GridNode, title: str, kind: str, source: str, created_by: User | None = None, **fields
) -> Demand:
    community_of(node)
    if node.archived_at is not None:
        raise ValidationError({"node": _("This place is archived.")})
    demand = Demand(node=node, title=title.strip(), kind=kind, source=source, created_by=created_by, **fields)
    demand.full_clean()
    demand.save()
    rollup.touch(*DEMAND_METRICS)
    return demand


@transaction.atomic
def demand_cancel(*, demand: Demand) -> Demand:
    demand = Demand.objects.select_for_update().get(pk=demand.pk)
    if demand.status == DemandStatus.FULFILLED:
        raise ConflictError(_("A fulfilled demand cannot be cancelled."), code="illegal_transition")
    if demand.claims.filter(status__in=ACTIVE_CLAIM_STATUSES).exists():
        raise ConflictError(_("Someone is working on this demand; withdraw the claim first."), code="claimed")
    Demand.objects.filter(pk=demand.pk).update(status=DemandStatus.CANCELLED)
    _touch_demand(demand.created_at)  # no longer counted as collected
    demand.refresh_from_db()
    return demand


def _settle_demand(demand_id: int) -> None:
    """Settle the demand's status from its claims and mark the figures that can move: today's,
    the day it had been met on (a new claim reopens it), and the day it was collected on (the
    share of that day's demands met)."""
    before = Demand.objects.filter(pk=demand_id).values_list("created_at", "fulfilled_at").first()
    _settle(demand_id)
    _touch_demand(*(before or ()))


def _touch_demand(*moments) -> None:
    rollup.touch(*DEMAND_METRICS)
    for moment in {m for m in moments if m is not None}:
        rollup.touch(*DEMAND_METRICS, day=timezone.localtime(moment).date())


def _settle(demand_id: int) -> None:
    """Set a demand's status from its claims: claimed while anyone works on it, fulfilled once
    its claims are done, open again when every claim was withdrawn."""
    claims = Claim.objects.filter(demand_id=demand_id)
    active = claims.filter(status__in=ACTIVE_CLAIM_STATUSES).exists()
    fulfilled = claims.filter(status=ClaimStatus.FULFILLED).exists()
    demand = Demand.objects.filter(pk=demand_id).exclude(status=DemandStatus.CANCELLED)
    if active:
        demand.update(status=DemandStatus.CLAIMED, fulfilled_at=None)
    elif fulfilled:
        demand.exclude(status=DemandStatus.FULFILLED).update(
            status=DemandStatus.FULFILLED, fulfilled_at=timezone.now()
        )
    else:
        demand.update(status=DemandStatus.OPEN, fulfilled_at=None)


# Resources and bookings -------------------------------------------------------------------


@transaction.atomic
def resource_offer(
    *, community: GridNode, kind: str, title: str, quantity: int, unit=None, member=None, **fields
) -> Resource:
    _one_party(unit, member)
    if community.level != NodeLevel.COMMUNITY:
        raise ValidationError({"community": _("Resources are offered to a community.")})
    if not is_registered(community=community, unit=unit, member=member):
        # As with claims: only a unit or member registered (双报到) here offers in its own name.
        raise ConflictError(
            _("Only a unit or party member registered with this community can offer it resources."),
            code="not_registered",
        )
    resource = Resource(
        community=community,
        unit=unit,
        member=member,
        kind=kind,
        title=title.strip(),
        quantity=quantity,
        remaining=quantity,
        **fields,
    )
    resource.full_clean()
    resource.save()
    return resource


@transaction.atomic
def resource_withdraw(*, resource: Resource) -> Resource:
    Resource.objects.filter(pk=resource.pk, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    resource.refresh_from_db()
    return resource


@transaction.atomic
def resource_book(
    *,
    resource: Resource,
    quantity: int,
    purpose: str,
    actor: User,
    project: Project | None = None,
    demand: Demand | None = None,
    on: datetime.date | None = None,
) -> ResourceBooking:
    """Book part of a resource. The count goes down in one conditional UPDATE, so two people
    booking the last unit at once cannot both get it, and it never goes below zero."""
    if quantity < 1:
        raise ValidationError({"quantity": _("Book at least one.")})
    if not purpose.strip():
        raise ValidationError({"purpose": _("Say what the booking is for.")})
    on = on or timezone.localdate()
    current = Resource.objects.get(pk=resource.pk)
    if current.withdrawn_at is not None:
        raise ConflictError(_("This resource has been withdrawn."), code="withdrawn")
    if (current.available_from and on < current.available_from) or (
        current.available_until and on > current.available_until
    ):
        raise ConflictError(_("This resource is not available on that day."), code="unavailable")
    taken = Resource.objects.filter(
        pk=resource.pk, remaining__gte=quantity, withdrawn_at__isnull=True
    ).update(remaining=F("remaining") - quantity)
    if not taken:
        raise ConflictError(
            _("Only %(left)d left; it cannot be booked %(n)d times.")
            % {"left": Resource.objects.get(pk=resource.pk).remaining, "n": quantity},
            code="not_enough",
        )
    return ResourceBooking.objects.create(
        resource=current,
        quantity=quantity,
        purpose=purpose.strip(),
        project=project,
        demand=demand,
        booked_by=actor,
    )


@transaction.atomic
def booking_cancel(*, booking: ResourceBooking) -> ResourceBooking:
    """Cancel a booking and give its quantity back."""
    cancelled = ResourceBooking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).update(
        status=BookingStatus.CANCELLED, cancelled_at=timezone.now()
    )
    if not cancelled:
        raise ConflictError(_("Only a current booking can be cancelled."), code="illegal_transition")
    Resource.objects.filter(pk=booking.resource_id).update(remaining=F("remaining") + booking.quantity)
    booking.refresh_from_db()
    return booking


# Projects ---------------------------------------------------------------------------------


@transaction.atomic
def project_create(*, node: GridNode, title: str, owner_name: str, demands=(), **fields) -> Project:
    community_of(node)
    project = Project(node=node, title=title.strip(), owner_name=owner_name.strip(), **fields)
    project.full_clean()
    project.save()
    if demands:
        project.demands.set(demands)
    return project


@transaction.atomic
def project_move(*, project: Project, action: str) -> Project:
    current = Project.objects.select_for_update().get(pk=project.pk)
    move = PROJECT.check(action, current.status)
    if (
        move.target == ProjectStatus.CANCELLED
        and current.claims.filter(status__in=ACTIVE_CLAIM_STATUSES).exists()
    ):
        # As with a demand: whoever took the project on withdraws first.
        raise ConflictError(
            _("Someone is working on this project; withdraw the claim first."), code="claimed"
        )
    Project.objects.filter(pk=project.pk).update(status=move.target)
    current.refresh_from_db()
    return current


def _roll_up(project_id: int) -> None:
    """Progress is the weighted mean of the milestones', in one query."""
    totals = Milestone.objects.filter(project_id=project_id).aggregate(
        weighted=Sum(F("progress") * F("weight")), weights=Sum("weight")
    )
    progress = round((totals["weighted"] or 0) / totals["weights"]) if totals["weights"] else 0
    Project.objects.filter(pk=project_id).update(progress=progress)


def _open_project(project_id: int) -> None:
    """A completed or cancelled project's milestones are its record: they no longer change."""
    status = (
        Project.objects.select_for_update().filter(pk=project_id).values_list("status", flat=True).first()
    )
    if status in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED):
        raise ConflictError(_("This project is over; its milestones no longer change."), code="project_over")


@transaction.atomic
def milestone_add(*, project: Project, title: str, due_on=None, weight: int = 1) -> Milestone:
    _open_project(project.pk)
    milestone = Milestone(project=project, title=title.strip(), due_on=due_on, weight=weight)
    milestone.full_clean()
    milestone.save()
    _roll_up(project.pk)
    return milestone


@transaction.atomic
def milestone_progress(*, milestone: Milestone, progress: int) -> Milestone:
    if not 0 <= progress <= 100:
        raise ValidationError({"progress": _("Progress is 0 to 100.")})
    _open_project(milestone.project_id)
    Milestone.objects.filter(pk=milestone.pk).update(
        progress=progress, done_on=timezone.localdate() if progress == 100 else None
    )
    _roll_up(milestone.project_id)
    milestone.refresh_from_db()
    return milestone


@transaction.atomic
def milestone_update(*, milestone: Milestone, **changes) -> Milestone:
    """A milestone's title, due date or weight; the project's progress is weighed again."""
    _open_project(milestone.project_id)
    apply = {field: value for field, value in changes.items() if field in ("title", "due_on", "weight")}
    for field, value in apply.items():
        setattr(milestone, field, value.strip() if isinstance(value, str) else value)
    milestone.full_clean()
    if apply:
        milestone.save(update_fields=list(apply))
    _roll_up(milestone.project_id)
    return milestone


# Claims -----------------------------------------------------------------------------------


@transaction.atomic
def claim_create(
    *,
    demand: Demand | None = None,
    project: Project | None = None,
    unit=None,
    member=None,
    actor: User | None = None,
    note: str = "",
) -> Claim:
    """A registered unit or party member takes on a demand or project. A demand that takes one
    claimant cannot be claimed twice, even by two people at the same moment."""
    _one_party(unit, member)
    if (demand is None) == (project is None):
        raise ValidationError(_("Claim either a demand or a project."))
    target = demand or project
    community = community_of(target.node)
    if not is_registered(community=community, unit=unit, member=member):
        raise ConflictError(
            _("Register with %(community)s (双报到) and be accepted before claiming.")
            % {"community": community.name},
            code="not_registered",
        )
    if demand is not None:
        # Claims on one demand queue up on its row, so the check below sees any claim just made.
        demand = Demand.objects.select_for_update().get(pk=demand.pk)
        if demand.status in (DemandStatus.FULFILLED, DemandStatus.CANCELLED):
            raise ConflictError(_("This demand is no longer open."), code="closed")
        active = demand.claims.filter(status__in=ACTIVE_CLAIM_STATUSES)
        if active.filter(unit=unit, member=member).exists():
            raise ConflictError(_("You have already claimed this."), code="already_claimed")
        if not demand.allows_multiple_claims and active.exists():
            raise ConflictError(_("Someone has already claimed this demand."), code="already_claimed")
    else:
        project = Project.objects.select_for_update().get(pk=project.pk)
        if project.status not in ("planned", "in_progress"):
            raise ConflictError(_("This project is no longer open."), code="closed")
        if project.claims.filter(status__in=ACTIVE_CLAIM_STATUSES, unit=unit, member=member).exists():
            raise ConflictError(_("You have already claimed this."), code="already_claimed")
    claim = Claim.objects.create(
        community=community,
        demand=demand,
        project=project,
        unit=unit,
        member=member,
        note=note.strip(),
        recorded_by=actor,
    )
    if demand is not None:
        _settle_demand(demand.pk)
    return claim


def _claim_move(claim: Claim, action: str, **changes) -> Claim:
    current = Claim.objects.select_for_update().get(pk=claim.pk)
    move = CLAIM.check(action, current.status)
    updated = Claim.objects.filter(pk=claim.pk, status=current.status).update(status=move.target, **changes)
    if not updated:
        raise ConflictError(_("Someone else acted on this claim just now; reload it."), code="claim_taken")
    if current.demand_id:
        # Lock the demand too, so two claims settling at once agree on its status.
        Demand.objects.select_for_update().filter(pk=current.demand_id).exists()
        _settle_demand(current.demand_id)
    current.refresh_from_db()
    history.record([current], reason=recorded_text(move.label))
    return current


@transaction.atomic
def claim_start(*, claim: Claim) -> Claim:
    return _claim_move(claim, "start", started_at=timezone.now())


@transaction.atomic
def claim_fulfil(*, claim: Claim, rating: int | None = None, feedback: str = "") -> Claim:
    """Done, with the beneficiary's word on it; the demand is fulfilled when its claims are."""
    if rating is not None and rating not in range(1, 6):
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    return _claim_move(
        claim, "fulfil", fulfilled_at=timezone.now(), feedback_rating=rating, feedback=feedback.strip()[:500]
    )


@transaction.atomic
def claim_withdraw(*, claim: Claim, note: str = "") -> Claim:
    """Give a claim back; the demand opens again for others."""
    return _claim_move(claim, "withdraw", withdrawn_at=timezone.now(), note=(note or claim.note)[:300])


def claimant_filter(*, unit=None, member=None) -> Q:
    return Q(unit=unit) if unit is not None else Q(member=member)

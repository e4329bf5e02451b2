"""Writes for the closed loop of tickets. Every change of status is one call here and one event row."""

import datetime
import math
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from demands import workflow
from demands.choices import Level, RatingSource, TicketSource, TicketStatus
from demands.metrics import (
    CLOSED_METRICS,
    CLOSED_OF_RECEIVED,
    RATED_ON_CLOSED_DAY,
    RATING_METRICS,
    RECEIVED_METRICS,
    RESPONSE_METRICS,
)
from demands.models import RESIDENT, SYSTEM, Ticket, TicketCategory, TicketEvent, TicketPhoto
from grid import history, rollup
from grid.choices import NodeLevel, Role
from grid.errors import ConflictError
from grid.i18n import recorded_text
from grid.models import Assignment, GridNode, User
from grid.validators import normalize_phone, validate_phone

AUTO_CLOSE_AFTER = datetime.timedelta(days=7)
UNSATISFIED_AT_OR_BELOW = 2


def _deadlines(category: TicketCategory, start: datetime.datetime) -> dict:
    return {
        "response_due": start + datetime.timedelta(hours=category.response_hours),
        "resolution_due": start + datetime.timedelta(hours=category.resolution_hours),
    }


def _event(
    ticket: Ticket,
    action: str,
    from_status: str,
    to_status: str,
    *,
    actor=None,
    label="",
    note="",
    assignee=None,
):
    return TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        actor_label=label,
        note=note,
        assignee=assignee,
    )


def _save_photos(ticket: Ticket, event: TicketEvent | None, photos: Iterable) -> None:
    for photo in photos:
        row = TicketPhoto(ticket=ticket, event=event, width=photo.width, height=photo.height)
        row.image.save(photo.name, photo, save=False)
        thumbnail = getattr(photo, "thumbnail", None)
        if thumbnail is not None:
            row.thumbnail.save(thumbnail.name, thumbnail, save=False)
        row.save()


@transaction.atomic
def ticket_create(
    *,
    category: TicketCategory,
    node: GridNode,
    source: str,
    description: str,
    location_text: str = "",
    latitude: float | None = None,
    longitude: float | None = None,
    reporter_resident=None,
    reporter_name: str = "",
    reporter_phone: str = "",
    created_by: User | None = None,
    photos: Iterable = (),
) -> Ticket:
    """Record a report and dispatch it to the grid's A post at once."""
    errors = {}
    if not category.is_active:
        errors["category"] = _("This category is no longer in use.")
    # Read the place again under a lock: an archive of the place (which locks its whole subtree)
    # either finishes first, and the report is refused, or waits for it and counts it as open.
    node = GridNode.objects.select_for_update(no_key=True).get(pk=node.pk)
    if node.archived_at is not None:
        errors["node"] = _("This place is archived.")
    if source not in TicketSource.values:
        errors["source"] = _("Unknown source.")
    if not description.strip():
        errors["description"] = _("Describe the problem.")
    phone = normalize_phone(reporter_phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as error:
            errors["reporter_phone"] = error.messages
    if (latitude is None) != (longitude is None):
        errors["latitude"] = _("Give both latitude and longitude, or neither.")
    elif latitude is not None and not (math.isfinite(latitude) and math.isfinite(longitude)):
        # NaN passes every range check, and no JSON can carry it back out.
        errors["latitude"] = _("Latitude and longitude must be numbers.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    ticket = Ticket(
        category=category,
        node=node,
        source=source,
        description=description.strip(),
        location_text=location_text.strip(),
        latitude=latitude,
        longitude=longitude,
        reporter_resident=reporter_resident,
        reporter_name=reporter_name.strip(),
        reporter_phone=phone,
        created_by=created_by,
        created_at=now,
        **_deadlines(category, now),
    )
    ticket.full_clean()
    ticket.save()
    event = _event(
        ticket,
        "submit",
        "",
        TicketStatus.SUBMITTED,
        actor=created_by,
        label="" if created_by else RESIDENT,
    )
    _save_photos(ticket, event, photos)
    rollup.touch(*RECEIVED_METRICS)
    ticket_dispatch(ticket=ticket)
    return ticket


def handling_node(node: GridNode, level: int) -> GridNode | None:
    """The grid, community or street that handles a ticket placed at `node` at `level`."""
    wanted = {
        Level.GRID: NodeLevel.GRID,
        Level.COMMUNITY: NodeLevel.COMMUNITY,
        Level.STREET: NodeLevel.STREET,
    }[level]
    steplen = GridNode.steplen
    paths = [node.path[:end] for end in range(steplen, len(node.path) + 1, steplen)]
    return GridNode.objects.filter(path__in=paths, level=wanted).order_by("-depth").first()


def dispatch_candidates(node: GridNode, level: int, on: datetime.date | None = None) -> list[User]:
    """Who gets a new ticket, in order. At a grid: the A post, then the B post (anyone on leave
    is skipped), then the grid chief. At a community or street: its staff, then its secretary or leader."""
    on = on or timezone.localdate()
    handler = handling_node(node, level)
    if handler is None:
        return []
    if level == Level.GRID:
        order = [
            (Role.GRID_WORKER, True),
            (Role.GRID_WORKER, False),
            (Role.PART_TIME_WORKER, True),
            (Role.PART_TIME_WORKER, False),
            (Role.GRID_CHIEF, None),
        ]
    elif level == Level.COMMUNITY:
        order = [(Role.COMMUNITY_STAFF, None), (Role.COMMUNITY_SECRETARY, None)]
    else:
        order = [(Role.COMMUNITY_STAFF, None), (Role.STREET_LEADER, None)]
    assignments = list(
        Assignment.objects.current(on)
        .filter(node=handler, role__in={role for role, _primary in order}, user__is_active=True)
        .filter(Q(away_until__isnull=True) | Q(away_until__lt=on))
        .select_related("user")
        .order_by("started_on", "id")
    )
    ranked = []
    for role, primary in order:
        for assignment in assignments:
            fits = assignment.role == role and (primary is None or assignment.is_primary == primary)
            if fits and assignment.user not in ranked:
                ranked.append(assignment.user)
    return ranked


def _touch_metrics(
    before: str,
    after: str,
    closed_at: datetime.datetime | None,
    accepted_at: datetime.datetime | None,
    changes: dict,
    created_at: datetime.datetime | None = None,
) -> None:
    """Mark the metric cells a transition changes: closing counts today; leaving the closed
    status (a reopen) uncounts the day the ticket had been closed on; either changes the closed
    share of the day it was received on; accepting counts today's response times, and clearing
    an acceptance uncounts the day it was made on."""
    if after == TicketStatus.CLOSED:
        rollup.touch(*CLOSED_METRICS)
    elif before == TicketStatus.CLOSED and closed_at is not None:
        rollup.touch(*CLOSED_METRICS, day=timezone.localtime(closed_at).date())
    if TicketStatus.CLOSED in (before, after) and before != after and created_at is not None:
        rollup.touch(*CLOSED_OF_RECEIVED, day=timezone.localtime(created_at).date())
    if "accepted_at" in changes:
        if accepted_at is not None:
            rollup.touch(*RESPONSE_METRICS, day=timezone.localtime(accepted_at).date())
        if changes["accepted_at"] is not None:
            rollup.touch(*RESPONSE_METRICS)


def _move(
    ticket: Ticket,
    action: str,
    *,
    actor: User | None,
    label: str = "",
    note: str = "",
    extra_filter: Q | None = None,
    **changes,
) -> Ticket:
    """Apply one transition with a conditional UPDATE and record it; refuse it if the ticket
    moved on meanwhile (another worker took it) or the move is not allowed from its status."""
    step = workflow.transition(action)
    found = (
        Ticket.objects.filter(pk=ticket.pk)
        .values_list("status", "closed_at", "accepted_at", "created_at")
        .first()
    )
    current, closed_at, accepted_at, created_at = found or (None, None, None, None)
    if current not in step.sources:
        workflow.refuse(action, current)
    rows = Ticket.objects.filter(pk=ticket.pk, status=current)
    if extra_filter is not None:
        rows = rows.filter(extra_filter)
    updated = rows.update(status=step.target, updated_at=timezone.now(), **changes)
    if not updated:
        raise ConflictError(_("Someone else acted on this ticket just now; reload it."), code="ticket_taken")
    _touch_metrics(current, step.target, closed_at, accepted_at, changes, created_at)
    _event(
        ticket,
        action,
        current,
        step.target,
        actor=actor,
        label=label,
        note=note,
        assignee=changes.get("assignee"),
    )
    ticket.refresh_from_db()
    history.record([ticket], user=actor, reason=recorded_text(step.label))
    return ticket


@transaction.atomic
def ticket_dispatch(*, ticket: Ticket, actor: User | None = None) -> Ticket:
    """Assign to the first available handler at the ticket's level; with nobody there the ticket
    waits in the staff queue."""
    candidates = dispatch_candidates(ticket.node, ticket.level)
    if not candidates:
        return ticket
    return _move(ticket, "assign", actor=actor, label="" if actor else SYSTEM, assignee=candidates[0])


@transaction.atomic
def ticket_assign(*, ticket: Ticket, actor: User, assignee: User, note: str = "") -> Ticket:
    """Staff hand a ticket to a named person, who must hold a role where the ticket is."""
    from grid.scope import object_in_scope

    if not assignee.is_active or not object_in_scope(assignee, ticket, "demands.change_ticket"):
        raise ValidationError({"assignee": _("This person does not work where the ticket is.")})
    return _move(ticket, "assign", actor=actor, note=note, assignee=assignee)


def _overdue_if_past(deadline: str, now: datetime.datetime):
    """`is_overdue` for an UPDATE made at `now`: set when the ticket's `deadline` has passed, kept
    otherwise. A ticket accepted or resolved late is flagged by the step itself, not only if the
    periodic job happened to run in between (it runs every few minutes)."""
    return Case(When(**{f"{deadline}__lt": now}, then=Value(True)), default=F("is_overdue"))


@transaction.atomic
def ticket_accept(*, ticket: Ticket, actor: User) -> Ticket:
    """Take the ticket (接单). Two workers trying at once: exactly one succeeds."""
    now = timezone.now()
    return _move(
        ticket,
        "accept",
        actor=actor,
        assignee=actor,
        accepted_at=now,
        is_overdue=_overdue_if_past("response_due", now),
    )


def _need(note: str, message: str) -> str:
    if not (note or "").strip():
        raise ValidationError({"note": message})
    return note.strip()


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor: User, note: str, photos: Iterable = ()) -> Ticket:
    note = _need(note, _("Say what was done."))
    if ticket.assignee_id != actor.pk:
        raise ConflictError(_("Only the person who accepted the ticket can resolve it."), code="not_assignee")
    now = timezone.now()
    ticket = _move(
        ticket,
        "resolve",
        actor=actor,
        note=note,
        resolved_at=now,
        is_overdue=_overdue_if_past("resolution_due", now),
        extra_filter=Q(assignee=actor),
    )
    _save_photos(ticket, ticket.events.order_by("-id").first(), photos)
    return ticket


@transaction.atomic
def ticket_return(*, ticket: Ticket, actor: User, note: str) -> Ticket:
    """Send the ticket back (退单) with a reason; staff then hand it on."""
    note = _need(note, _("Say why the ticket goes back."))
    return _move(ticket, "return", actor=actor, note=note, assignee=None, accepted_at=None)


@transaction.atomic
def ticket_escalate(*, ticket: Ticket, actor: User | None, note: str, label: str = "") -> Ticket:
    """Hand the ticket up one level (grid → community → street) and dispatch it there."""
    note = _need(note, _("Say why the ticket goes up."))
    current = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if current.level >= Level.STREET:
        raise ConflictError(_("The ticket is already handled by the street."), code="top_level")
    now = timezone.now()
    ticket = _move(
        current,
        "escalate",
        actor=actor,
        label=label,
        note=note,
        level=current.level + 1,
        assignee=None,
        accepted_at=None,
        **_deadlines(current.category, now),
    )
    return ticket_dispatch(ticket=ticket)


@transaction.atomic
def ticket_close(*, ticket: Ticket, actor: User | None, note: str = "", label: str = "") -> Ticket:
    return _move(ticket, "close", actor=actor, label=label, note=note, closed_at=timezone.now())


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor: User | None, note: str, label: str = "") -> Ticket:
    note = _need(note, _("Say what is still wrong."))
    ticket = _move(
        ticket,
        "reopen",
        actor=actor,
        label=label,
        note=note,
        assignee=None,
        accepted_at=None,
        resolved_at=None,
        closed_at=None,
        **_deadlines(ticket.category, timezone.now()),
    )
    return ticket_dispatch(ticket=ticket)


@transaction.atomic
def ticket_reject(*, ticket: Ticket, actor: User, note: str) -> Ticket:
    note = _need(note, _("Say why the ticket is rejected."))
    return _move(ticket, "reject", actor=actor, note=note, closed_at=timezone.now())


@transaction.atomic
def ticket_mark_duplicate(*, ticket: Ticket, actor: User, original: Ticket, note: str = "") -> Ticket:
    if original.pk == ticket.pk or original.status == TicketStatus.DUPLICATE:
        raise ValidationError(
            {"original": _("Choose the original ticket, not this one or another duplicate.")}
        )
    return _move(ticket, "duplicate", actor=actor, note=note, duplicate_of=original, closed_at=timezone.now())


def may_rate(ticket: Ticket) -> bool:
    """Resolved or closed, and not yet rated since its last resolution: a reporter who was
    unsatisfied (the ticket reopened) rates the redo too; the last verdict is the ticket's rating,
    the earlier ones stay in its history."""
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return False
    return ticket.rating is None or (
        ticket.rated_at is not None
        and ticket.resolved_at is not None
        and ticket.rated_at < ticket.resolved_at
    )


@transaction.atomic
def ticket_rate(
    *,
    ticket: Ticket,
    rating: int,
    comment: str = "",
    source: str = RatingSource.RESIDENT,
    actor: User | None = None,
) -> Ticket:
    """The reporter's verdict (or staff's phone callback, 回访): unsatisfied reopens, otherwise closes."""
    if rating not in range(1, 6):
        raise ValidationError({"rating": _("Rate from 1 to 5.")})
    current = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if current.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ConflictError(_("A ticket can be rated once it is resolved."), code="not_resolved")
    if not may_rate(current):
        raise ConflictError(_("This ticket has already been rated."), code="already_rated")
    Ticket.objects.filter(pk=current.pk).update(
        rating=rating, rating_comment=comment.strip()[:500], rating_source=source, rated_at=timezone.now()
    )
    rollup.touch(*RATING_METRICS)
    if current.rated_at is not None:  # the verdict on the first round leaves that day's figures
        rollup.touch(*RATING_METRICS, day=timezone.localtime(current.rated_at).date())
    if current.status == TicketStatus.CLOSED and current.closed_at is not None:
        rollup.touch(*RATED_ON_CLOSED_DAY, day=timezone.localtime(current.closed_at).date())
    label = "" if actor else RESIDENT
    note = recorded_text(gettext_lazy("Rated %(rating)d/5. %(comment)s")) % {
        "rating": rating,
        "comment": comment.strip(),
    }
    if rating <= UNSATISFIED_AT_OR_BELOW:
        return ticket_reopen(ticket=current, actor=actor, label=label, note=note)
    if current.status == TicketStatus.RESOLVED:
        return ticket_close(ticket=current, actor=actor, label=label, note=note)
    current.refresh_from_db()
    history.record([current], user=actor, reason=recorded_text(gettext_lazy("Rated")))
    return current


@transaction.atomic
def phone_reveal(*, ticket: Ticket, actor: User) -> str:
    """The reporter's full phone, for a role allowed to call back; recorded in the ticket's history."""
    _event(
        ticket,
        "reveal_phone",
        ticket.status,
        ticket.status,
        actor=actor,
        note=recorded_text(gettext_lazy("Viewed the reporter's phone.")),
    )
    return ticket.reporter_phone


def orphaned_tickets():
    """Tickets dispatched to or taken by someone who no longer works where they are: their
    account is disabled, or none of their current posts covers the ticket's place (the post
    ended, or they moved to another grid)."""
    from demands.permissions import HANDLERS

    covering = (
        Assignment.objects.current()
        .filter(
            user=OuterRef("assignee"),
            user__is_active=True,
            node__archived_at__isnull=True,
            role__in=HANDLERS,  # a volunteer role there (双报到) handles no ticket
        )
        .annotate(_prefix=Substr(OuterRef("node__path"), 1, Length("node__path")))
        .filter(node__path=F("_prefix"))
    )
    # A ticket on an archived place has no next handler there (it would come straight back):
    # the office takes it on from the overdue list.
    return (
        Ticket.objects.filter(
            status__in=[TicketStatus.ASSIGNED, TicketStatus.ACCEPTED], assignee__isnull=False
        )
        .filter(node__archived_at__isnull=True)
        .exclude(Exists(covering))
    )


HANDOVER_BATCH = 1000


def hand_over_orphaned(user: User | None = None) -> int:
    """Send each orphaned ticket (of `user`, or anyone's) back and dispatch it to the next handler
    (the B post, then the grid chief; at a community its staff). Without this, a ticket held by
    someone who left waits, counted overdue, until the deadline job escalates it. Safe to run
    twice: a handed-over ticket has a new handler. Returns how many were handed over."""
    tickets = orphaned_tickets()
    if user is not None:
        tickets = tickets.filter(assignee=user)
    count = 0
    for ticket in tickets.select_related("node").order_by("id")[:HANDOVER_BATCH]:
        try:
            with transaction.atomic():
                moved = _move(
                    ticket,
                    "return",
                    actor=None,
                    label=SYSTEM,
                    note=recorded_text(
                        gettext_lazy("Its handler no longer works here; it goes to the next handler.")
                    ),
                    assignee=None,
                    accepted_at=None,
                    extra_filter=Q(assignee=ticket.assignee_id),
                )
                ticket_dispatch(ticket=moved)
        except ConflictError:
            continue  # it moved on meanwhile
        count += 1
    return count


def escalate_overdue(now: datetime.datetime | None = None) -> int:
    """Flag tickets past their deadline and hand each up one level (the periodic job)."""
    now = now or timezone.now()
    waiting = {
        TicketStatus.SUBMITTED,
        TicketStatus.ASSIGNED,
        TicketStatus.RETURNED,
        TicketStatus.ESCALATED,
        TicketStatus.REOPENED,
    }
    due = Ticket.objects.filter(
        Q(status__in=waiting, response_due__lt=now) | Q(status=TicketStatus.ACCEPTED, resolution_due__lt=now)
    ).exclude(level=Level.STREET, is_overdue=True)
    count = 0
    for ticket in due.select_related("category").order_by("response_due")[:1000]:
        with transaction.atomic():
            history.update(
                Ticket.objects.filter(pk=ticket.pk),
                reason=recorded_text(gettext_lazy("Past its deadline.")),
                is_overdue=True,
            )
            if ticket.level < Level.STREET:
                try:
                    ticket_escalate(
                        ticket=ticket,
                        actor=None,
                        label=SYSTEM,
                        note=recorded_text(gettext_lazy("Past its deadline.")),
                    )
                except ConflictError:
                    continue  # it moved on meanwhile
        count += 1
    return count


def auto_close_resolved(now: datetime.datetime | None = None) -> int:
    """Close tickets resolved more than seven days ago that nobody rated."""
    now = now or timezone.now()
    count = 0
    stale = Ticket.objects.filter(status=TicketStatus.RESOLVED, resolved_at__lt=now - AUTO_CLOSE_AFTER)
    for ticket in stale.order_by("resolved_at")[:5000]:
        try:
            ticket_close(
                ticket=ticket,
                actor=None,
                label=SYSTEM,
                note=recorded_text(gettext_lazy("Closed seven days after resolution without a rating.")),
            )
            count += 1
        except ConflictError:
            continue
    return count

"""Writes for service events, programmes, home visits and the points ledger."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from demands import lists as demand_lists
from demands import services as ticket_services
from demands.choices import DemandSource, TicketSource
from grid import rollup
from grid.choices import NodeLevel
from grid.errors import ConflictError
from grid.models import GridNode, User
from residents import services as resident_services
from residents.models import Household, Resident
from services.choices import AccountKind, DeliveryKind, EntryKind, OrganizerKind, Recurrence
from services.eligibility import eligible_residents, validate_rule
from services.metrics import COVERAGE_METRICS, SERVICE_METRICS, VISIT_METRICS
from services.models import (
    DEFAULT_CADENCE,
    Delivery,
    EventPhoto,
    EventSeries,
    Participation,
    PointsAccount,
    PointsEntry,
    PointsTransaction,
    Programme,
    Reward,
    ServiceEvent,
    Visit,
    VisitCadence,
    VisitPhoto,
)

# Events -----------------------------------------------------------------------------------


@transaction.atomic
def event_create(
    *,
    node: GridNode,
    kind,
    title: str,
    organizer_kind: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    organizer_unit=None,
    organizer_org=None,
    created_by: User | None = None,
    photos=(),
    **fields,
) -> ServiceEvent:
    errors = {}
    if organizer_kind == OrganizerKind.UNIT and organizer_unit is None:
        errors["organizer_unit"] = _("Name the organizing unit.")
    if organizer_kind == OrganizerKind.PARTY_ORG and organizer_org is None:
        errors["organizer_org"] = _("Name the organizing party organization.")
    if ends_at <= starts_at:
        errors["ends_at"] = _("The event must end after it starts.")
    if node.archived_at is not None:
        errors["node"] = _("This place is archived.")
    elif node.level == NodeLevel.STREET:
        # Points, sign-in candidates and the grid competition are kept per community.
        errors["node"] = _("A service event takes place in a community or below; choose the community.")
    if errors:
        raise ValidationError(errors)
    event = ServiceEvent(
        node=node,
        kind=kind,
        title=title.strip(),
        organizer_kind=organizer_kind,
        organizer_unit=organizer_unit,
        organizer_org=organizer_org,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=created_by,
        **fields,
    )
    event.full_clean()
    event.save()
    rollup.touch(*SERVICE_METRICS, day=timezone.localtime(starts_at).date())
    for photo in photos:
        row = EventPhoto(event=event, width=photo.width, height=photo.height)
        row.image.save(photo.name, photo, save=False)
        row.save()
    return event


def series_dates(series: EventSeries, until: datetime.date) -> list[datetime.date]:
    end = min(until, series.ends_on) if series.ends_on else until
    day, dates = series.starts_on, []
    while day <= end:
        if series.recurrence == Recurrence.WEEKLY and day.weekday() == series.weekday:
            dates.append(day)
        if series.recurrence == Recurrence.MONTHLY and day.day == series.day_of_month:
            dates.append(day)
        day += datetime.timedelta(days=1)
    return dates


@transaction.atomic
def series_generate(*, series: EventSeries, until: datetime.date) -> int:
    """Create the occurrences of a series up to `until`; existing ones are kept (safe to re-run)."""
    tz = timezone.get_current_timezone()
    events = []
    for day in series_dates(series, until):
        starts = datetime.datetime.combine(day, series.start_time, tzinfo=tz)
        events.append(
            ServiceEvent(
                node=series.node,
                kind=series.kind,
                series=series,
                title=series.title,
                organizer_kind=OrganizerKind.COMMUNITY,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(minutes=series.duration_minutes),
                place=series.place,
            )
        )
    before = ServiceEvent.objects.filter(series=series).count()
    ServiceEvent.objects.bulk_create(events, ignore_conflicts=True)
    return ServiceEvent.objects.filter(series=series).count() - before


@transaction.atomic
def sign_in(
    *,
    event: ServiceEvent,
    role: str,
    user: User | None = None,
    member=None,
    name: str = "",
    hours: Decimal | None = None,
    by: User | None = None,
) -> Participation:
    """Record someone at an event: ticked by the organizer, or by themselves through the event's
    QR code. Signing in twice is harmless: the first record stands."""
    # The event's row orders sign-ins against the award of its points: none after it.
    event = ServiceEvent.objects.select_for_update().get(pk=event.pk)
    if event.cancelled_at is not None:
        raise ConflictError(_("This event was cancelled."), code="cancelled")
    if user is None and member is None and not name.strip():
        raise ValidationError(_("Say who took part."))
    existing = (
        Participation.objects.filter(event=event, user=user).first()
        if user
        else (Participation.objects.filter(event=event, member=member).first() if member else None)
    )
    if existing is not None:
        return existing
    if event.points_awarded_at is not None:
        raise ConflictError(
            _("Points for this event were already awarded; nobody can sign in any more."),
            code="already_awarded",
        )
    # A day's service at most; an event spanning days counts up to 24 hours unless told otherwise.
    longest = min(Decimal(str(event.hours)), Decimal(24))
    hours = longest if hours is None else Decimal(hours)
    if hours < 0 or hours > longest:
        raise ValidationError(
            {
                "hours": _("Hours are 0 to %(hours)s, the length of the event.")
                % {"hours": longest.normalize()}
            }
        )
    label = (name.strip() or (str(user) if user else member.name))[:50]
    rollup.touch(*SERVICE_METRICS, day=timezone.localtime(event.starts_at).date())
    try:
        with transaction.atomic():
            return Participation.objects.create(
                event=event,
                role=role,
                user=user,
                member=member,
                name=label,
                hours=hours,
                checked_in_by=by or user,
            )
    except IntegrityError:
        return (
            Participation.objects.get(event=event, user=user)
            if user
            else Participation.objects.get(event=event, member=member)
        )


@transaction.atomic
def event_cancel(*, event: ServiceEvent, reason: str, by: User | None = None) -> ServiceEvent:
    """Call an event off (rain, a speaker who cannot come): it stays on record, takes no more
    sign-ins, and leaves every figure (events, person-times, hours). Once its points are awarded
    it took place, and is no longer cancelled."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"cancel_reason": _("Say why the event is cancelled.")})
    if len(reason) > 200:
        raise ValidationError({"cancel_reason": _("Keep the reason within 200 characters.")})
    # The event's row orders the cancellation against sign-ins and the award of points.
    event = ServiceEvent.objects.select_for_update().get(pk=event.pk)
    if event.cancelled_at is not None:
        raise ConflictError(_("This event was already cancelled."), code="cancelled")
    if event.points_awarded_at is not None:
        raise ConflictError(
            _("Points for this event were already awarded: it took place and cannot be cancelled."),
            code="already_awarded",
        )
    event.cancelled_at = timezone.now()
    event.cancelled_by = by
    event.cancel_reason = reason
    event.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
    rollup.touch(*SERVICE_METRICS, day=timezone.localtime(event.starts_at).date())
    return event


# Who may award an event's points (hours × rate) and redeem rewards: the community office.
AWARD_PERMISSION = "services.add_pointstransaction"


@transaction.atomic
def award_points(*, event: ServiceEvent, actor: User | None) -> int:
    """Points for everyone who served: hours × the kind's rate, once per event."""
    claimed = ServiceEvent.objects.filter(
        pk=event.pk, points_awarded_at__isnull=True, cancelled_at__isnull=True
    ).update(points_awarded_at=timezone.now())
    if not claimed:
        if ServiceEvent.objects.filter(pk=event.pk, cancelled_at__isnull=False).exists():
            raise ConflictError(_("This event was cancelled: nobody earns points for it."), code="cancelled")
        raise ConflictError(_("Points for this event were already awarded."), code="already_awarded")
    community = demand_lists.community_of(event.node)
    count = 0
    for participation in event.participations.select_related("user", "member"):
        amount = int(participation.hours * event.kind.points_per_hour)
        if amount <= 0 or (participation.user_id is None and participation.member_id is None):
            continue
        account = account_for(community=community, user=participation.user, member=participation.member)
        _post(
            community=community,
            kind=EntryKind.EARN,
            memo=_("Served at %(event)s") % {"event": event.title},
            source=system_account(community, AccountKind.ISSUANCE),
            destination=account,
            amount=amount,
            event=event,
            actor=actor,
        )
        count += 1
    return count


# Programmes -------------------------------------------------------------------------------


@transaction.atomic
def programme_create(*, node: GridNode, name: str, benefit: str, rule: dict, **fields) -> Programme:
    validate_rule(rule)
    programme = Programme(node=node, name=name.strip(), benefit=benefit.strip(), rule=rule, **fields)
    programme.full_clean()
    programme.save()
    return programme


def subsidy_left(programme: Programme, resident: Resident, on: datetime.date) -> Decimal:
    if programme.monthly_subsidy is None:
        return Decimal(0)
    month = on.replace(day=1)
    used = Delivery.objects.filter(
        programme=programme, resident=resident, delivered_on__gte=month, delivered_on__lte=on
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return programme.monthly_subsidy - used


@transaction.atomic
def delivery_record(
    *,
    programme: Programme,
    resident: Resident,
    kind: str,
    actor: User | None = None,
    delivered_on: datetime.date | None = None,
    amount: Decimal = Decimal(0),
    note: str = "",
) -> Delivery:
    """Record a delivery to an eligible resident; subsidy spent never exceeds the month's subsidy."""
    delivered_on = delivered_on or timezone.localdate()
    if not programme.is_active:
        raise ConflictError(_("This programme is closed."), code="inactive")
    # One resident's deliveries queue up, so the month's subsidy is never spent twice.
    resident = Resident.objects.select_for_update().get(pk=resident.pk)
    if not eligible_residents(programme, delivered_on).filter(pk=resident.pk).exists():
        raise ValidationError(
            {
                "resident": _("%(name)s is not eligible for %(programme)s.")
                % {"name": resident.name, "programme": programme.name}
            }
        )
    amount = Decimal(amount)
    if amount < 0:
        raise ValidationError({"amount": _("The amount cannot be negative.")})
    if amount and amount > subsidy_left(programme, resident, delivered_on):
        raise ConflictError(
            _("Only %(left)s yuan of this month's subsidy is left.")
            % {"left": subsidy_left(programme, resident, delivered_on)},
            code="subsidy_spent",
        )
    if kind == DeliveryKind.SUBSIDY_EXCHANGE and not amount:
        raise ValidationError({"amount": _("Say how much unspent subsidy is exchanged.")})
    return Delivery.objects.create(
        programme=programme,
        resident=resident,
        kind=kind,
        delivered_on=delivered_on,
        amount=amount,
        note=note.strip(),
        recorded_by=actor,
    )


# Home visits ------------------------------------------------------------------------------


def cadence_days() -> dict[str, int]:
    days = dict(DEFAULT_CADENCE)
    days.update(dict(VisitCadence.objects.values_list("colour", "days")))
    return days


@transaction.atomic
def visit_record(
    *,
    household: Household,
    visitor: User,
    findings: str,
    colour: str | None = None,
    colour_reason: str = "",
    ticket: dict | None = None,
    demand: dict | None = None,
    photos=(),
    visited_at: datetime.datetime | None = None,
) -> Visit:
    """Record a home visit and, in the same step, raise a ticket or a demand and change the colour."""
    if not findings.strip():
        raise ValidationError({"findings": _("Write down what you found.")})
    household = Household.objects.select_for_update().select_related("node").get(pk=household.pk)
    day = timezone.localtime(visited_at or timezone.now()).date()
    rollup.touch(*VISIT_METRICS, "key_households", day=day)
    rollup.touch_since(*COVERAGE_METRICS, day=day)  # and every later due date of the household
    visit = Visit.objects.create(
        household=household,
        visitor=visitor,
        findings=findings.strip(),
        colour_before=household.colour,
        visited_at=visited_at or timezone.now(),
    )
    if colour is not None and colour != household.colour:
        resident_services.colour_set(
            household=household,
            colour=colour,
            actor=visitor,
            reason=colour_reason.strip() or findings.strip()[:200],
        )
        visit.colour_after = colour
    if ticket:
        visit.ticket = ticket_services.ticket_create(
            category=ticket["category"],
            node=household.node,
            source=TicketSource.PATROL,
            description=ticket["description"],
            location_text=household.address,
            created_by=visitor,
        )
    if demand:
        visit.demand = demand_lists.demand_create(
            node=household.node,
            title=demand["title"],
            kind=demand["kind"],
            source=DemandSource.VISIT,
            beneficiary_household=household,
            created_by=visitor,
        )
    visit.save(update_fields=["colour_after", "ticket", "demand"])
    for photo in photos:
        row = VisitPhoto(visit=visit, width=photo.width, height=photo.height)
        row.image.save(photo.name, photo, save=False)
        row.save()
    return visit


# Points ledger ------------------------------------------------------------------------------


def system_account(community: GridNode, kind: str) -> PointsAccount:
    names = {AccountKind.ISSUANCE: _("Issued by %(c)s"), AccountKind.REDEMPTION: _("Redeemed at %(c)s")}
    account, _created = PointsAccount.objects.get_or_create(
        community=community, kind=kind, defaults={"name": names[kind] % {"c": community.name}}
    )
    return account


def account_for(*, community: GridNode, user: User | None = None, member=None) -> PointsAccount:
    lookup = {"user": user} if user is not None else {"member": member}
    name = str(user) if user is not None else member.name
    try:
        with transaction.atomic():
            account, _created = PointsAccount.objects.get_or_create(
                community=community, kind=AccountKind.PERSON, **lookup, defaults={"name": name}
            )
    except IntegrityError:
        account = PointsAccount.objects.get(community=community, kind=AccountKind.PERSON, **lookup)
    return account


def balance(account: PointsAccount) -> int:
    return account.entries.aggregate(total=Sum("amount"))["total"] or 0


# Far above any grant or reward, far below the column's limit: a slip of the keyboard (or a
# hostile request) gets a clear refusal, not a database error.
MAX_MOVEMENT = 100_000


def _post(*, community, kind, memo, source, destination, amount, actor=None, event=None, reward=None):
    """One double-entry movement: the source loses what the destination gains."""
    if amount <= 0:
        raise ValidationError({"amount": _("Points move in positive amounts.")})
    if amount > MAX_MOVEMENT:
        raise ValidationError({"amount": _("At most %(max)d points move at once.") % {"max": MAX_MOVEMENT}})
    movement = PointsTransaction.objects.create(
        community=community, kind=kind, memo=memo[:200], event=event, reward=reward, created_by=actor
    )
    PointsEntry.objects.bulk_create(
        [
            PointsEntry(transaction=movement, account=source, amount=-amount),
            PointsEntry(transaction=movement, account=destination, amount=amount),
        ]
    )
    return movement


@transaction.atomic
def points_grant(*, account: PointsAccount, amount: int, memo: str, actor: User) -> PointsTransaction:
    """Points given by the community outside an event (e.g. an outstanding volunteer)."""
    if not memo.strip():
        raise ValidationError({"memo": _("Say what the points are for.")})
    return _post(
        community=account.community,
        kind=EntryKind.ADJUST,
        memo=memo,
        actor=actor,
        amount=amount,
        source=system_account(account.community, AccountKind.ISSUANCE),
        destination=account,
    )


@transaction.atomic
def points_redeem(*, account: PointsAccount, reward: Reward, actor: User | None) -> PointsTransaction:
    """Spend points on a reward. The account row is locked first, so two redemptions at once
    cannot overdraw it; a reward with stock loses one unit in the same transaction."""
    account = PointsAccount.objects.select_for_update().get(pk=account.pk)
    if account.kind != AccountKind.PERSON:
        raise ValidationError(_("Only a person's points can be redeemed."))
    if not reward.is_active or reward.community_id != account.community_id:
        raise ValidationError({"reward": _("This reward is not offered here.")})
    have = balance(account)
    if have < reward.cost:
        raise ConflictError(
            _("Not enough points: %(have)d of %(cost)d.") % {"have": have, "cost": reward.cost},
            code="insufficient_points",
        )
    if reward.stock is not None:
        from django.db.models import F

        taken = Reward.objects.filter(pk=reward.pk, stock__gte=1).update(stock=F("stock") - 1)
        if not taken:
            raise ConflictError(_("This reward is out of stock."), code="out_of_stock")
    return _post(
        community=account.community,
        kind=EntryKind.REDEEM,
        memo=_("Redeemed %(r)s") % {"r": reward.name},
        source=account,
        destination=system_account(account.community, AccountKind.REDEMPTION),
        amount=reward.cost,
        reward=reward,
        actor=actor,
    )

"""Reads of the resident register, scoped and joined for display."""

import datetime

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from grid.scope import scope_queryset
from grid.validators import normalize_phone, normalize_text_digits
from residents import identity
from residents.choices import AGE_BAND_LIMITS, AgeBand, ResidentStatus
from residents.models import AccessLog, CareTag, Household, ImportJob, Resident


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def birth_date_bounds(min_age: int | None, max_age: int | None, today: datetime.date) -> Q:
    """Residents whose age today lies in [min_age, max_age] (either bound may be open)."""
    condition = Q()
    if min_age is not None:
        condition &= Q(birth_date__lte=years_before(today, min_age))
    if max_age is not None:
        condition &= Q(birth_date__gt=years_before(today, max_age + 1))
    return condition


def age_band_condition(band: str, today: datetime.date | None = None) -> Q:
    today = today or timezone.localdate()
    for value, low, high in AGE_BAND_LIMITS:
        if value == band:
            return birth_date_bounds(low, high, today)
    raise ValueError(band)


def age_band_of(age: int) -> str:
    for value, low, high in AGE_BAND_LIMITS:
        if age >= low and (high is None or age <= high):
            return value
    return AgeBand.CHILD


def current_tags(on: datetime.date | None = None) -> Prefetch:
    on = on or timezone.localdate()
    return Prefetch(
        "care_tags",
        queryset=CareTag.objects.filter(Q(until__isnull=True) | Q(until__gt=on), since__lte=on).order_by(
            "kind"
        ),
        to_attr="current_tags",
    )


def household_list(*, user) -> QuerySet[Household]:
    return scope_queryset(
        Household.objects.select_related("node", "head")
        .annotate(member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
        .order_by("node__path", "room"),
        user,
    )


def resident_list(*, user) -> QuerySet[Resident]:
    return scope_queryset(
        Resident.objects.select_related("household", "household__node").prefetch_related(current_tags()), user
    )


# A search never tells more than the masked figures show: four digits match the tail shown of a
# phone or ID number; a whole phone number matches only where the user may reveal phones, a whole
# ID number only where the user registers residents (and is told of a duplicate anyway). Longer
# tails would let anyone read a hidden digit at a time off the number of hits.
WHOLE_PHONE_PERMISSION = "residents.reveal_phone_resident"
WHOLE_ID_PERMISSION = "residents.add_resident"


def search_condition(value: str, user) -> Q:
    """Residents matching one search box: part of the name, the room, the four digits shown of a
    phone or ID number, a whole phone or ID number where the user may use it (see above)."""
    value = value.strip()[:50]
    if not value:
        return Q()
    condition = Q(name__contains=value) | Q(household__room=value)
    tail = normalize_text_digits(value).upper()
    if len(tail) == 4 and tail[:3].isdigit() and tail[3] in "0123456789X":
        condition |= Q(id_number_masked__endswith=tail)
        if tail.isdigit():
            condition |= Q(phone__endswith=tail)
    phone = normalize_phone(value)
    if len(phone) >= 7 and phone.replace("-", "").isdigit():
        condition |= Q(
            pk__in=scope_queryset(
                Resident.objects.filter(phone=phone), user, permission=WHOLE_PHONE_PERMISSION
            )
            .order_by()
            .values("pk")
        )
    number = identity.normalize_id_number(value)
    if len(number) == 18:
        condition |= Q(
            pk__in=scope_queryset(
                Resident.objects.filter(id_number_hash=identity.lookup_hash(number)),
                user,
                permission=WHOLE_ID_PERMISSION,
            )
            .order_by()
            .values("pk")
        )
    return condition


def household_members(household: Household) -> QuerySet[Resident]:
    return (
        Resident.objects.filter(household=household)
        .prefetch_related(current_tags())
        .order_by("status", "relation", "birth_date")
    )


def access_log_list(*, user) -> QuerySet[AccessLog]:
    return scope_queryset(AccessLog.objects.select_related("user", "resident"), user)


def import_job_list(*, user) -> QuerySet[ImportJob]:
    return scope_queryset(ImportJob.objects.select_related("scope_node", "created_by"), user)

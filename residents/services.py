"""Writes to the resident register."""

import datetime
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from grid import history, rollup
from grid.choices import NodeLevel
from grid.models import GridNode, User
from grid.services import apply_changes
from grid.validators import normalize_phone, normalize_text_digits, validate_phone
from residents import identity
from residents.choices import (
    SENSITIVE_TAGS,
    AccessAction,
    CareTagKind,
    Colour,
    Relation,
    ResidentStatus,
)
from residents.models import AccessLog, CareTag, ColourMark, Household, Resident

HOUSEHOLD_LEVELS = {NodeLevel.BUILDING, NodeLevel.UNIT}


def validate_household_node(node: GridNode) -> None:
    if node.level not in HOUSEHOLD_LEVELS:
        raise ValidationError({"node": _("A household belongs to a building or a unit.")})
    if node.archived_at is not None:
        raise ValidationError({"node": _("The node is archived.")})


@transaction.atomic
def household_create(
    *, node: GridNode, room: str, housing_kind: str = "owner", notes: str = "", colour: str = ""
) -> Household:
    validate_household_node(node)
    household = Household(
        node=node,
        room=normalize_text_digits(room).strip(),
        housing_kind=housing_kind,
        notes=notes,
        colour=colour,
    )
    household.full_clean()
    household.save()
    return household


@transaction.atomic
def household_update(*, household: Household, **changes) -> Household:
    if "node" in changes:
        validate_household_node(changes["node"])
    if "room" in changes:
        changes["room"] = normalize_text_digits(changes["room"]).strip()
    # Read from the database: an admin form has already set the new node on the instance.
    moved = "node" in changes and changes["node"].pk != (
        Household.objects.filter(pk=household.pk).values_list("node_id", flat=True).first()
    )
    apply_changes(household, changes, {"node", "room", "housing_kind", "notes"})
    household.full_clean()
    household.save()
    if moved:  # its visits (and due dates) now count under other ancestors, back to the first
        rollup.touch_history(
            *(code for code, metric in rollup.REGISTRY.items() if metric.path.startswith("household__"))
        )
    return household


def check_identity(
    *,
    id_number: str,
    birth_date: datetime.date | None,
    gender: str | None,
    today: datetime.date | None = None,
) -> tuple[str, datetime.date | None, str | None]:
    """Validate an ID number and cross-check it with the birth date and gender given.

    Returns (normalized number, birth date, gender), filling in what the number tells.
    """
    errors: dict[str, list[str]] = {}
    number = ""
    if id_number:
        try:
            number = identity.validate_id_number(id_number, today=today)
        except ValidationError as error:
            raise ValidationError({"id_number": error.messages}) from error
        born = identity.id_birth_date(number)
        if birth_date is None:
            birth_date = born
        elif birth_date != born:
            errors["birth_date"] = [
                _("The birth date does not match the ID number (%(date)s).") % {"date": born}
            ]
        sex = identity.id_gender(number)
        if not gender:
            gender = sex
        elif gender != sex:
            errors["gender"] = [_("The gender does not match the ID number.")]
    if birth_date is None:
        errors["birth_date"] = [_("Enter the birth date or a valid ID number.")]
    elif birth_date > (today or timezone.localdate()):
        errors["birth_date"] = [_("The birth date is in the future.")]
    if not gender:
        errors["gender"] = [_("Enter the gender or a valid ID number.")]
    if errors:
        raise ValidationError(errors)
    return number, birth_date, gender


def identity_columns(number: str) -> dict[str, str]:
    return {
        "id_number_encrypted": identity.encrypt(number),
        "id_number_hash": identity.lookup_hash(number),
        "id_number_masked": identity.mask_id_number(number),
    }


def _check_unique_id(number_hash: str, exclude_pk: int | None = None) -> None:
    if not number_hash:
        return
    clash = Resident.objects.filter(id_number_hash=number_hash).exclude(pk=exclude_pk)
    if clash.exists():
        # Neither the person nor the place: the record may lie outside the caller's area. Within
        # it, searching the number finds the record.
        raise ValidationError(
            {"id_number": _("This ID number is already registered; search for it to find the record.")}
        )


def clean_phone(phone: str) -> str:
    phone = normalize_phone(phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
    return phone


_RESIDENT_FIELDS = {
    "name",
    "relation",
    "residence_kind",
    "ethnicity",
    "political_status",
    "party_membership",
    "health_notes",
    "notes",
}


@transaction.atomic
def resident_create(
    *,
    household: Household,
    name: str,
    relation: str,
    id_number: str = "",
    birth_date: datetime.date | None = None,
    gender: str = "",
    phone: str = "",
    **fields,
) -> Resident:
    apply_changes(Resident(), fields, _RESIDENT_FIELDS - {"name", "relation"})
    number, birth_date, gender = check_identity(id_number=id_number, birth_date=birth_date, gender=gender)
    columns = identity_columns(number)
    _check_unique_id(columns["id_number_hash"])
    resident = Resident(
        household=household,
        name=name.strip(),
        relation=relation,
        birth_date=birth_date,
        gender=gender,
        phone=clean_phone(phone),
        **columns,
        **fields,
    )
    resident.full_clean()
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as error:  # a concurrent registration of the same number
        raise ValidationError({"id_number": _("This ID number is already registered.")}) from error
    if relation == Relation.HEAD:
        history.update(Household.objects.filter(pk=household.pk), head=resident)
    return resident


@transaction.atomic
def resident_update(
    *, resident: Resident, id_number: str | None = None, phone: str | None = None, **changes
) -> Resident:
    birth_date = changes.pop("birth_date", resident.birth_date)
    gender = changes.pop("gender", resident.gender)
    household = changes.pop("household", None)
    apply_changes(resident, changes, _RESIDENT_FIELDS)
    # An empty number keeps the stored one, as the admin's empty field does: a number is never
    # erased by leaving it out (a role that may not even see it could otherwise destroy it).
    if id_number is not None and id_number.strip():
        number, birth_date, gender = check_identity(id_number=id_number, birth_date=birth_date, gender=gender)
        columns = identity_columns(number)
        _check_unique_id(columns["id_number_hash"], exclude_pk=resident.pk)
        for field, value in columns.items():
            setattr(resident, field, value)
    elif resident.id_number_encrypted:
        # The stored number still has to agree with any birth date or gender change.
        number, birth_date, gender = check_identity(
            id_number=identity.decrypt(resident.id_number_encrypted), birth_date=birth_date, gender=gender
        )
    resident.birth_date, resident.gender = birth_date, gender
    if phone is not None:
        resident.phone = clean_phone(phone)
    if household is not None and household.pk != resident.household_id:
        resident.household = household
    resident.full_clean()
    resident.save()
    if resident.relation == Relation.HEAD:
        history.update(Household.objects.filter(pk=resident.household_id), head=resident)
    return resident


@transaction.atomic
def resident_set_status(*, resident: Resident, status: str, on: datetime.date | None = None) -> Resident:
    """Moved out or deceased: the record stays, with its history."""
    if status not in ResidentStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    resident.status = status
    resident.status_changed_on = on or timezone.localdate()
    resident.save(update_fields=["status", "status_changed_on", "updated_at"])
    if status != ResidentStatus.ACTIVE:
        history.update(Household.objects.filter(pk=resident.household_id, head=resident), head=None)
        # Open care tags end that day; one that only started later ends on its first day.
        open_tags = CareTag.objects.filter(resident=resident, until__isnull=True)
        history.update(open_tags, until=Greatest(F("since"), Value(resident.status_changed_on)))
    return resident


@transaction.atomic
def care_tag_add(
    *,
    resident: Resident,
    kind: str,
    grade: int | None = None,
    since: datetime.date | None = None,
    note: str = "",
) -> CareTag:
    if kind not in CareTagKind.values:
        raise ValidationError({"kind": _("Unknown care group.")})
    if grade is not None and kind != CareTagKind.DISABLED:
        raise ValidationError({"grade": _("Only a disability has a grade.")})
    if CareTag.objects.filter(resident=resident, kind=kind, until__isnull=True).exists():
        raise ValidationError({"kind": _("The resident already carries this care tag.")})
    tag = CareTag(resident=resident, kind=kind, grade=grade, since=since or timezone.localdate(), note=note)
    tag.full_clean(validate_constraints=False)
    tag.save()
    return tag


@transaction.atomic
def care_tag_update(*, tag: CareTag, **changes) -> CareTag:
    apply_changes(tag, changes, {"grade", "since", "until", "note"})
    if tag.grade is not None and tag.kind != CareTagKind.DISABLED:
        raise ValidationError({"grade": _("Only a disability has a grade.")})
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def colour_set(
    *, household: Household, colour: str, reason: str, actor: User | None, resident: Resident | None = None
) -> ColourMark:
    """Set the colour of a household (or one member) and record the change."""
    if colour and colour not in Colour.values:
        raise ValidationError({"colour": _("Unknown colour.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the colour changes.")})
    if resident is not None and resident.household_id != household.pk:
        raise ValidationError({"resident": _("The resident is not a member of this household.")})
    target = resident or household
    target = type(target).objects.select_for_update().get(pk=target.pk)
    mark = ColourMark.objects.create(
        household=household,
        resident=resident,
        colour=colour,
        previous=target.colour,
        reason=reason.strip(),
        set_by=actor,
    )
    history.update(
        type(target).objects.filter(pk=target.pk), user=actor, reason=reason.strip(), colour=colour
    )
    return mark


def log_where(request) -> str:
    """Where a list was seen, for the access log: the path and its filters, without the search
    box (`q`), which may hold a whole ID or phone number."""
    query = request.GET.copy()
    query.pop("q", None)
    encoded = query.urlencode()
    return request.path + (f"?{encoded}" if encoded else "")


def access_log(*, user: User, residents: Iterable[Resident], action: str, fields: str, where: str) -> int:
    """Record that `user` saw protected data of these residents (one row each)."""
    rows = [
        AccessLog(user=user, resident=resident, action=action, fields=fields[:200], where=where[:200])
        for resident in residents
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)


# Which permission lets a role see which identifier in full.
REVEAL_PERMISSIONS = {"id_number": "residents.reveal_id_resident", "phone": "residents.reveal_phone_resident"}


@transaction.atomic
def identity_reveal(*, resident: Resident, user: User, field: str, where: str) -> str:
    """The full ID number or phone, for a user already checked to hold the right; always logged."""
    if field == "id_number":
        value = identity.decrypt(resident.id_number_encrypted)
        action = AccessAction.REVEAL_ID
    elif field == "phone":
        value = resident.phone
        action = AccessAction.REVEAL_PHONE
    else:
        raise ValidationError({"field": _("Only the ID number or the phone can be revealed.")})
    access_log(user=user, residents=[resident], action=action, fields=field, where=where)
    return value


def has_sensitive_content(resident: Resident, tags: Iterable[CareTag]) -> bool:
    return bool(resident.health_notes) or any(tag.kind in SENSITIVE_TAGS for tag in tags)

"""Import of household/resident ledgers (台账): validate every row, then write in one transaction.

A file with any bad row writes nothing, unless the user chose to import the valid rows. A resident
is matched by the keyed hash of the ID number and a household by (building or unit, room), so
importing the same file again updates in place and creates no duplicates.
"""

import contextlib
import datetime
import functools
import logging
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel

from grid import history
from grid.i18n import recorded_text
from grid.models import GridNode, User
from grid.scope import path_checker
from grid.validators import normalize_phone, normalize_text_digits, validate_phone
from residents import excel, identity
from residents.choices import ImportMode, ImportStatus, Relation
from residents.models import CareTag, ColourMark, Household, ImportJob, Resident
from residents.services import HOUSEHOLD_LEVELS, check_identity, identity_columns

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 250


class FileRejected(Exception):
    """The file as a whole cannot be read as a ledger."""


@dataclass
class ParsedRow:
    line: int
    node_id: int
    room: str
    housing_kind: str
    name: str
    relation: str
    id_number: str
    id_hash: str
    gender: str
    birth_date: datetime.date
    phone: str
    residence_kind: str
    ethnicity: str
    political_status: str
    tags: list[tuple[str, int | None]]
    colour: str
    notes: str


@dataclass
class Outcome:
    valid: list[ParsedRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append({"row": line, "column": column, "message": str(message)})


def read_rows(path) -> tuple[int, list[tuple[int, dict[str, str]]]]:
    """(data row count, [(line number, {key: text})]) from the first sheet."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise FileRejected(_("The file is not a readable .xlsx workbook.")) from error
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration as error:
        raise FileRejected(_("The sheet is empty.")) from error
    keys = []
    for cell in header:
        column = excel.HEADERS.get(str(cell).strip()) if cell is not None else None
        keys.append(column.key if column else None)
    missing = [c.header for c in excel.COLUMNS if c.required and c.key not in keys]
    if missing:
        raise FileRejected(_("Missing columns: %(columns)s") % {"columns": "、".join(missing)})
    parsed = []
    for line, values in enumerate(rows, start=2):
        record = {}
        for key, value in zip(keys, values, strict=False):
            if key is None or value is None:
                continue
            if isinstance(value, datetime.datetime):
                value = value.date().isoformat()
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            elif isinstance(value, float) and value.is_integer():
                value = str(int(value))
            record[key] = str(value).strip()
        if any(record.values()):
            parsed.append((line, record))
    workbook.close()
    return len(parsed), parsed


def _choice(outcome: Outcome, line: int, column: str, mapping: dict[str, str], value: str, default: str = ""):
    if not value:
        return default
    if value in mapping.values():
        return value
    if value in mapping:
        return mapping[value]
    outcome.error(
        line,
        column,
        _("Unknown value '%(value)s'; use one of: %(choices)s")
        % {"value": value, "choices": "、".join(dict.fromkeys(mapping))},
    )
    return None


def validate(
    rows: list[tuple[int, dict[str, str]]], *, user: User, scope_node: GridNode, progress=None
) -> Outcome:
    outcome = Outcome()
    headers = {c.key: c.header for c in excel.COLUMNS}
    codes = {record.get("node_code", "") for _line, record in rows}
    nodes = {
        node.code: node
        for node in GridNode.objects.filter(code__in=codes).only("id", "code", "path", "level", "archived_at")
    }
    may_write = path_checker(user, "residents.add_resident")
    seen_hashes: dict[str, int] = {}
    heads: dict[tuple[int, str], int] = {}
    today = timezone.localdate()
    for index, (line, record) in enumerate(rows, start=1):
        errors_before = len(outcome.errors)
        if record.get("room"):
            record["room"] = normalize_text_digits(record["room"])
        for column in excel.COLUMNS:
            if column.required and not record.get(column.key):
                outcome.error(line, column.header, _("This column is required."))
            limit = max_lengths().get(column.key)
            if limit and len(record.get(column.key, "")) > limit:
                outcome.error(
                    line,
                    column.header,
                    _("At most %(limit)d characters are allowed here.") % {"limit": limit},
                )
        node = nodes.get(record.get("node_code", ""))
        if record.get("node_code") and node is None:
            outcome.error(
                line,
                headers["node_code"],
                _("No building or unit has the code '%(code)s'.") % {"code": record["node_code"]},
            )
        elif node is not None:
            if node.level not in HOUSEHOLD_LEVELS:
                outcome.error(line, headers["node_code"], _("A household belongs to a building or a unit."))
            elif node.archived_at is not None:
                outcome.error(line, headers["node_code"], _("The node is archived."))
            elif not node.path.startswith(scope_node.path) or not may_write(node.path):
                outcome.error(line, headers["node_code"], _("This building or unit is outside your area."))
        housing = _choice(
            outcome, line, headers["housing_kind"], excel.HOUSING, record.get("housing_kind", ""), "owner"
        )
        relation = _choice(outcome, line, headers["relation"], excel.RELATION, record.get("relation", ""))
        gender = _choice(outcome, line, headers["gender"], excel.GENDER, record.get("gender", ""))
        residence = _choice(
            outcome,
            line,
            headers["residence_kind"],
            excel.RESIDENCE,
            record.get("residence_kind", ""),
            "registered",
        )
        political = _choice(
            outcome,
            line,
            headers["political_status"],
            excel.POLITICAL,
            record.get("political_status", ""),
            "masses",
        )
        colour = _choice(outcome, line, headers["colour"], excel.COLOUR, record.get("colour", ""))
        birth_date = None
        if record.get("birth_date"):
            birth_date = parse_date(record["birth_date"])
            if birth_date is None:
                outcome.error(line, headers["birth_date"], _("Write the date as 1950-01-31."))
        number = hash_ = ""
        raw_id = record.get("id_number", "")
        if "*" in raw_id:
            outcome.error(line, headers["id_number"], _("The ID number is masked; enter the full number."))
        elif raw_id:
            try:
                number, birth_date, gender = check_identity(
                    id_number=raw_id, birth_date=birth_date, gender=gender, today=today
                )
                hash_ = identity.lookup_hash(number)
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    header = headers.get(key, headers["id_number"])
                    for message in messages:
                        outcome.error(line, header, message)
        phone = normalize_phone(record.get("phone", ""))
        if phone:
            try:
                validate_phone(phone)
            except ValidationError as error:
                outcome.error(line, headers["phone"], error.messages[0])
        tags = []
        if record.get("care_tags"):
            try:
                tags = excel.parse_tags(record["care_tags"])
            except KeyError as error:
                outcome.error(
                    line,
                    headers["care_tags"],
                    _("Unknown care group '%(tag)s'; use: %(choices)s")
                    % {"tag": error.args[0], "choices": "、".join(excel.CARE_TAGS)},
                )
        if hash_:
            if hash_ in seen_hashes:
                outcome.error(
                    line,
                    headers["id_number"],
                    _("The same ID number is on row %(row)d.") % {"row": seen_hashes[hash_]},
                )
            seen_hashes.setdefault(hash_, line)
        if node is not None and relation == Relation.HEAD:
            key = (node.pk, record.get("room", ""))
            if key in heads:
                outcome.error(
                    line,
                    headers["relation"],
                    _("The household already has a head on row %(row)d.") % {"row": heads[key]},
                )
            heads.setdefault(key, line)
        if len(outcome.errors) == errors_before:
            outcome.valid.append(
                ParsedRow(
                    line=line,
                    node_id=node.pk,
                    room=record["room"],
                    housing_kind=housing,
                    name=record["name"],
                    relation=relation,
                    id_number=number,
                    id_hash=hash_,
                    gender=gender,
                    birth_date=birth_date,
                    phone=phone,
                    residence_kind=residence,
                    ethnicity=record.get("ethnicity", ""),
                    political_status=political,
                    tags=tags,
                    colour=colour or "",
                    notes=record.get("notes", ""),
                )
            )
        if progress and index % PROGRESS_EVERY == 0:
            progress(index)
    _refuse_residents_elsewhere(
        outcome, seen_hashes, user=user, scope_node=scope_node, header=headers["id_number"]
    )
    return outcome


def _refuse_residents_elsewhere(outcome: Outcome, lines_by_hash: dict, *, user, scope_node, header) -> None:
    """A row whose ID number is already registered outside the importer's area is an error: an
    import may move a person within the area, never take over someone another community keeps
    (that is a move-out there, then a move-in here). The message names neither the person nor
    the place."""
    may_change = path_checker(user, "residents.change_resident")
    elsewhere = {
        hash_
        for hash_, path in Resident.objects.filter(id_number_hash__in=list(lines_by_hash)).values_list(
            "id_number_hash", "household__node__path"
        )
        if not path.startswith(scope_node.path) or not may_change(path)
    }
    if not elsewhere:
        return
    refused = {lines_by_hash[hash_] for hash_ in elsewhere}
    for line in sorted(refused):
        outcome.error(
            line,
            header,
            _(
                "This person is registered outside your area; the community keeping the record must "
                "move them out first."
            ),
        )
    outcome.valid = [row for row in outcome.valid if row.line not in refused]


def parse_date(text: str) -> datetime.date | None:
    """A date as ledgers write it: 1950-01-31, 1950/1/31, 1950.1.31, 1950年1月31日, or an Excel
    date serial (days since 1899-12-30) that lost its date format."""
    text = normalize_text_digits(text).strip()
    if re.fullmatch(r"\d{1,5}", text):
        serial = int(text)
        return from_excel(serial).date() if 1 <= serial <= 2958465 else None
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", text)
    if not match:
        return None
    try:
        return datetime.date(*map(int, match.groups()))
    except ValueError:
        return None


@functools.cache
def max_lengths() -> dict[str, int]:
    """The ledger columns held in limited text fields, and their limits."""
    fields = {"room": Household._meta.get_field("room")}
    for key in ("name", "ethnicity", "notes"):
        fields[key] = Resident._meta.get_field(key)
    return {key: field.max_length for key, field in fields.items() if field.max_length}


@transaction.atomic
def write(valid: list[ParsedRow], *, user: User) -> tuple[int, int]:
    """Create or update households and residents for the valid rows.

    Returns (created, matched): residents new to the register, and residents already on it
    (updated where the ledger differs).
    """
    if not valid:
        return 0, 0
    node_ids = {row.node_id for row in valid}
    households = {
        (h.node_id, h.room): h for h in Household.objects.select_for_update().filter(node_id__in=node_ids)
    }
    new_households = []
    for row in valid:
        key = (row.node_id, row.room)
        if key not in households:
            household = Household(node_id=row.node_id, room=row.room, housing_kind=row.housing_kind)
            households[key] = household
            new_households.append(household)
    Household.objects.bulk_create(new_households, batch_size=1000)
    if new_households and new_households[0].pk is None:
        for h in Household.objects.filter(node_id__in=node_ids):
            households[(h.node_id, h.room)] = h
        new_households = [households[(h.node_id, h.room)] for h in new_households]
    reason = recorded_text(gettext_lazy("Ledger import"))
    history.record(new_households, user=user, reason=reason, created=True)

    existing = {
        r.id_number_hash: r
        for r in Resident.objects.select_for_update().filter(
            id_number_hash__in=[row.id_hash for row in valid]
        )
    }
    to_create, to_update, matched = [], [], []
    for row in valid:
        household = households[(row.node_id, row.room)]
        values = {
            "household": household,
            "name": row.name,
            "relation": row.relation,
            "gender": row.gender,
            "birth_date": row.birth_date,
            "phone": row.phone,
            "residence_kind": row.residence_kind,
            "ethnicity": row.ethnicity,
            "political_status": row.political_status,
            "notes": row.notes,
        }
        resident = existing.get(row.id_hash)
        if resident is None:
            to_create.append(Resident(**values, **identity_columns(row.id_number)))
            continue
        # Re-importing an matched ledger should write nothing: compare before touching a row.
        changed = resident.household_id != household.pk or any(
            getattr(resident, key) != value for key, value in values.items() if key != "household"
        )
        if changed:
            for key, value in values.items():
                setattr(resident, key, value)
            to_update.append(resident)
        matched.append(resident)
    Resident.objects.bulk_create(to_create, batch_size=1000)
    Resident.objects.bulk_update(
        to_update,
        [
            "household",
            "name",
            "relation",
            "gender",
            "birth_date",
            "phone",
            "residence_kind",
            "ethnicity",
            "political_status",
            "notes",
        ],
        batch_size=1000,
    )
    by_hash = {r.id_number_hash: r for r in (*to_create, *matched)}
    if to_create and to_create[0].pk is None:
        by_hash = {r.id_number_hash: r for r in Resident.objects.filter(id_number_hash__in=list(by_hash))}
        to_create = [by_hash[r.id_number_hash] for r in to_create]
    history.record(to_create, user=user, reason=reason, created=True)
    history.record(to_update, user=user, reason=reason)

    # Heads, housing kind and colours of households, care tags of residents.
    changed_households = {}
    marks = []
    for row in valid:
        household = households[(row.node_id, row.room)]
        resident = by_hash[row.id_hash]
        if row.relation == Relation.HEAD and household.head_id != resident.pk:
            household.head_id = resident.pk
            changed_households[household.pk] = household
        if household.housing_kind != row.housing_kind and row.relation == Relation.HEAD:
            household.housing_kind = row.housing_kind
            changed_households[household.pk] = household
        if row.colour and household.colour != row.colour:
            marks.append(
                ColourMark(
                    household=household,
                    colour=row.colour,
                    previous=household.colour,
                    reason=recorded_text(gettext_lazy("Set by ledger import")),
                    set_by=user,
                )
            )
            household.colour = row.colour
            changed_households[household.pk] = household
    Household.objects.bulk_update(
        list(changed_households.values()), ["head", "housing_kind", "colour"], batch_size=1000
    )
    history.record(changed_households.values(), user=user, reason=reason)
    ColourMark.objects.bulk_create(marks, batch_size=1000)

    open_tags = set(
        CareTag.objects.filter(resident__in=list(by_hash.values()), until__isnull=True).values_list(
            "resident_id", "kind"
        )
    )
    today = timezone.localdate()
    new_tags = []
    for row in valid:
        resident = by_hash[row.id_hash]
        for kind, grade in row.tags:
            if (resident.pk, kind) not in open_tags:
                open_tags.add((resident.pk, kind))
                new_tags.append(CareTag(resident=resident, kind=kind, grade=grade, since=today))
    CareTag.objects.bulk_create(new_tags, batch_size=1000)
    history.record(new_tags, user=user, reason=reason, created=True)
    return len(to_create), len(matched)


def run(job: ImportJob) -> ImportJob:
    """Run an import job to its end, recording progress and the outcome on the job row; an
    unexpected failure finishes the job as failed (nothing written), never leaves it running."""
    try:
        return _run(job)
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        return _finish(
            job,
            ImportStatus.FAILED,
            message=_("The import failed unexpectedly; nothing was written. Please tell the administrator."),
        )


def _run(job: ImportJob) -> ImportJob:
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    try:
        total, rows = read_rows(job.file.path if hasattr(job.file, "path") else job.file)
    except FileRejected as error:
        return _finish(job, ImportStatus.REJECTED, message=str(error))
    ImportJob.objects.filter(pk=job.pk).update(total_rows=total)
    outcome = validate(
        rows,
        user=job.created_by,
        scope_node=job.scope_node,
        progress=lambda done: ImportJob.objects.filter(pk=job.pk).update(processed_rows=done),
    )
    errors = sorted(outcome.errors, key=lambda e: e["row"])
    if errors and job.mode == ImportMode.ALL_OR_NOTHING:
        return _finish(
            job,
            ImportStatus.REJECTED,
            processed=total,
            errors=errors,
            message=_("%(bad)d of %(total)d rows have errors; nothing was written.")
            % {"bad": len({e["row"] for e in errors}), "total": total},
        )
    created, updated = write(outcome.valid, user=job.created_by)
    message = _("%(created)d residents created, %(updated)d updated.") % {
        "created": created,
        "updated": updated,
    }
    if errors:
        message += " " + _("%(bad)d rows with errors were skipped.") % {
            "bad": len({e["row"] for e in errors})
        }
    return _finish(
        job,
        ImportStatus.DONE,
        processed=total,
        errors=errors,
        created=created,
        updated=updated,
        message=message,
    )


def _finish(job, status, *, processed=None, errors=(), created=0, updated=0, message="") -> ImportJob:
    values = {
        "status": status,
        "errors": list(errors),
        "created_count": created,
        "updated_count": updated,
        "message": message,
        "finished_at": timezone.now(),
    }
    if processed is not None:
        values["processed_rows"] = processed
    # The uploaded ledger holds whole ID numbers: once read, it is not kept (nor backed up).
    if job.file and job.file.name:
        with contextlib.suppress(OSError):
            job.file.storage.delete(job.file.name)
        values["file"] = ""
    ImportJob.objects.filter(pk=job.pk).update(**values)
    job.refresh_from_db()
    return job

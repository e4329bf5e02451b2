import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grid.choices import Gender
from grid.fields import PhoneField
from grid.models import GridNode, PartyMembership
from residents.choices import (
    AccessAction,
    CareTagKind,
    Colour,
    HousingKind,
    ImportMode,
    ImportStatus,
    PoliticalStatus,
    Relation,
    ResidenceKind,
    ResidentStatus,
)


class Household(models.Model):
    """A household (户) at a building or unit, with its "one household, one file" (一户一档) notes."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("building or unit"), on_delete=models.PROTECT, related_name="households"
    )
    room = models.CharField(_("room"), max_length=20)
    housing_kind = models.CharField(
        _("housing"), max_length=16, choices=HousingKind.choices, default=HousingKind.OWNER
    )
    head = models.ForeignKey(
        "Resident",
        verbose_name=_("head of household"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    colour = models.CharField(_("colour mark"), max_length=8, choices=Colour.choices, blank=True)
    notes = models.TextField(_("household file notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Every change, with who made it (django-simple-history); staff read it on the admin's history page.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        ordering = ["node__path", "room"]
        constraints = [
            models.UniqueConstraint(fields=["node", "room"], name="household_unique_room_per_node")
        ]
        indexes = [models.Index(fields=["colour"], name="household_colour_idx")]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        """ "3号楼2单元 402": a unit is named with its building (load `node__parent` with it)."""
        node = self.node
        building = node.parent.name if node.level == "unit" and node.parent_id else ""
        return f"{building}{node.name} {self.room}"


class Resident(models.Model):
    """A person living (or having lived) in the community. Never hard-deleted once on record."""

    SCOPE_NODE_FIELD = "household__node"

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="members"
    )
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices)
    birth_date = models.DateField(_("birth date"))
    id_number_encrypted = models.TextField(_("ID number (encrypted)"), blank=True, editable=False)
    id_number_hash = models.CharField(_("ID number lookup hash"), max_length=64, blank=True, editable=False)
    id_number_masked = models.CharField(_("ID number"), max_length=18, blank=True, editable=False)
    phone = PhoneField(_("phone"), blank=True)
    relation = models.CharField(_("relation to head"), max_length=12, choices=Relation.choices)
    residence_kind = models.CharField(
        _("residence"), max_length=12, choices=ResidenceKind.choices, default=ResidenceKind.REGISTERED
    )
    ethnicity = models.CharField(_("ethnicity"), max_length=20, blank=True)
    political_status = models.CharField(
        _("political status"), max_length=16, choices=PoliticalStatus.choices, default=PoliticalStatus.MASSES
    )
    party_membership = models.OneToOneField(
        PartyMembership,
        verbose_name=_("party membership"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
    )
    colour = models.CharField(_("colour mark"), max_length=8, choices=Colour.choices, blank=True)
    health_notes = models.TextField(
        _("health notes"), blank=True, help_text=_("Sensitive: shown only to roles that need it.")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE
    )
    status_changed_on = models.DateField(_("status changed on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Every change, with who made it (django-simple-history); staff read it on the admin's history page.
    # The masked ID number is kept; the ciphertext and lookup hash are not copied into history.
    history = HistoricalRecords(excluded_fields=["id_number_encrypted", "id_number_hash", "updated_at"])

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["household__node__path", "household__room", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~Q(id_number_hash=""), name="resident_unique_id_number"
            ),
        ]
        indexes = [
            models.Index(fields=["birth_date"], name="resident_birth_date_idx"),
            models.Index(fields=["name"], name="resident_name_idx"),
            models.Index(fields=["status", "household"], name="resident_status_household_idx"),
        ]
        permissions = [
            ("view_sensitive_resident", "Can view sensitive personal information of residents"),
            ("reveal_phone_resident", "Can reveal residents' full phone numbers"),
            ("reveal_id_resident", "Can reveal residents' full ID numbers"),
            ("import_resident", "Can import resident ledgers"),
            ("export_resident", "Can export resident ledgers and situation tables"),
        ]

    def __str__(self) -> str:
        return self.name

    def age_on(self, day: datetime.date) -> int:
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())


class CareTag(models.Model):
    """A care group (重点人群) a resident belongs to, for a period."""

    SCOPE_NODE_FIELD = "resident__household__node"

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="care_tags"
    )
    kind = models.CharField(_("care group"), max_length=24, choices=CareTagKind.choices)
    grade = models.PositiveSmallIntegerField(
        _("grade"), null=True, blank=True, help_text=_("Disability grade 1 (most severe) to 4.")
    )
    since = models.DateField(_("since"), default=timezone.localdate)
    until = models.DateField(_("until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Every change, with who made it (django-simple-history); staff read it on the admin's history page.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("care tag")
        verbose_name_plural = _("care tags")
        ordering = ["kind", "since"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "kind"],
                condition=Q(until__isnull=True),
                name="care_tag_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("since")),
                name="care_tag_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(grade__isnull=True) | Q(grade__gte=1, grade__lte=4), name="care_tag_grade_range"
            ),
        ]
        indexes = [models.Index(fields=["kind", "until"], name="care_tag_kind_until_idx")]

    def __str__(self) -> str:
        return self.get_kind_display()


class ColourMark(models.Model):
    """One change of a household's or resident's colour: who, when, why. The current colour is
    kept on the household or resident for filtering."""

    SCOPE_NODE_FIELD = "household__node"

    household = models.ForeignKey(
        Household, verbose_name=_("household"), on_delete=models.PROTECT, related_name="colour_marks"
    )
    resident = models.ForeignKey(
        Resident,
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="colour_marks",
        help_text=_("Empty when the mark is on the whole household."),
    )
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, blank=True)
    previous = models.CharField(_("previous colour"), max_length=8, choices=Colour.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("colour mark")
        verbose_name_plural = _("colour marks")
        ordering = ["-set_at"]

    def __str__(self) -> str:
        return f"{self.household} → {self.get_colour_display()}"


class AccessLog(models.Model):
    """Who saw whose protected personal data, when, and what."""

    SCOPE_NODE_FIELD = "resident__household__node"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.PROTECT, related_name="access_logs"
    )
    action = models.CharField(_("action"), max_length=16, choices=AccessAction.choices)
    fields = models.CharField(_("fields"), max_length=200, blank=True)
    where = models.CharField(_("where"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("personal data access log")
        verbose_name_plural = _("personal data access logs")
        ordering = ["-at"]
        indexes = [models.Index(fields=["resident", "at"], name="access_log_resident_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_action_display()} · {self.resident}"


class ImportJob(models.Model):
    """One upload of a household/resident ledger and its outcome, row by row."""

    SCOPE_NODE_FIELD = "scope_node"

    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    mode = models.CharField(_("mode"), max_length=16, choices=ImportMode.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    scope_node = models.ForeignKey(
        GridNode, verbose_name=_("imported into"), on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("residents created"), default=0)
    updated_count = models.PositiveIntegerField(_("residents updated"), default=0)
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (ImportStatus.DONE, ImportStatus.REJECTED) else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

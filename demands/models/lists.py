"""The three lists (需求清单、资源清单、项目清单), two-way claiming (双向认领) and the 双报到
registration of co-building units and in-service party members with a community."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from demands.choices import (
    BookingStatus,
    ClaimStatus,
    DemandKind,
    DemandSource,
    DemandStatus,
    ProjectStatus,
    RegistrationStatus,
    ResourceKind,
    Urgency,
)
from grid.models import CoBuildingUnit, GridNode, PartyMembership

_ONE_PARTY = (Q(unit__isnull=False) & Q(member__isnull=True)) | (
    Q(unit__isnull=True) & Q(member__isnull=False)
)


class CommunityRegistration(models.Model):
    """A unit or an in-service party member reporting to a community (双报到): once accepted they
    see the community's open lists and may claim from them."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="registrations"
    )
    unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=RegistrationStatus.choices, default=RegistrationStatus.PENDING
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("community registration (双报到)")
        verbose_name_plural = _("community registrations (双报到)")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=_ONE_PARTY, name="registration_unit_or_member"),
            models.UniqueConstraint(
                fields=["community", "unit"],
                condition=Q(status__in=["pending", "accepted"], unit__isnull=False),
                name="registration_one_open_per_unit",
            ),
            models.UniqueConstraint(
                fields=["community", "member"],
                condition=Q(status__in=["pending", "accepted"], member__isnull=False),
                name="registration_one_open_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit or self.member} → {self.community}"


class Demand(models.Model):
    """A need collected from residents, visits, tickets or deliberation; a micro-wish (微心愿) is a
    small personal one shown on the community's wish wall."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="demands"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    kind = models.CharField(_("kind"), max_length=16, choices=DemandKind.choices)
    source = models.CharField(_("source"), max_length=16, choices=DemandSource.choices)
    is_micro_wish = models.BooleanField(_("micro-wish (微心愿)"), default=False)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    quantity = models.PositiveIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    allows_multiple_claims = models.BooleanField(
        _("several claimants may share it"),
        default=False,
        help_text=_("Otherwise one claimant at a time (a wheelchair, a handrail)."),
    )
    beneficiary_resident = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("beneficiary"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    beneficiary_household = models.ForeignKey(
        "residents.Household",
        verbose_name=_("beneficiary household"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    beneficiary_group = models.CharField(_("beneficiary group"), max_length=100, blank=True)
    source_ticket = models.ForeignKey(
        "demands.Ticket",
        verbose_name=_("from ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    source_topic = models.ForeignKey(
        "demands.Topic",
        verbose_name=_("from topic"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=DemandStatus.choices, default=DemandStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("collected at"), default=timezone.now)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("demand")
        verbose_name_plural = _("demands")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "is_micro_wish"], name="demand_status_wish_idx"),
            # Rollups and lists select demands by when they came and when they were fulfilled.
            models.Index(fields=["created_at"], name="demand_created_idx"),
            models.Index(fields=["fulfilled_at"], name="demand_fulfilled_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Resource(models.Model):
    """What a co-building unit or party member offers the community, and how much is left."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="resources"
    )
    unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ResourceKind.choices)
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    quantity = models.PositiveIntegerField(_("quantity offered"), validators=[MinValueValidator(1)])
    remaining = models.PositiveIntegerField(_("left"))
    measure = models.CharField(
        _("counted in"), max_length=20, default="次", help_text=_("e.g. 次, 人次, 元, 场, 台")
    )
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_at = models.DateTimeField(_("offered at"), default=timezone.now)

    class Meta:
        verbose_name = _("resource")
        verbose_name_plural = _("resources")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=_ONE_PARTY, name="resource_unit_or_member"),
            # Never booked below zero, whatever two bookers do at once.
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("quantity")), name="resource_remaining_le_quantity"
            ),
            models.CheckConstraint(
                condition=Q(available_until__isnull=True)
                | Q(available_from__isnull=True)
                | Q(available_until__gte=models.F("available_from")),
                name="resource_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Project(models.Model):
    """Work that binds demands to resources (e.g. the filial canteen), with milestones."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="projects"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    owner_name = models.CharField(_("owner"), max_length=100)
    owner_unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("owning unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    budget = models.DecimalField(
        _("budget (yuan)"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProjectStatus.choices, default=ProjectStatus.PLANNED
    )
    progress = models.PositiveSmallIntegerField(
        _("progress %"), default=0, validators=[MaxValueValidator(100)]
    )
    demands = models.ManyToManyField(
        Demand, verbose_name=_("demands served"), blank=True, related_name="projects"
    )
    source_topic = models.ForeignKey(
        "demands.Topic",
        verbose_name=_("decided in topic"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="project_dates_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    """A step of a project; the project's progress is the weighted mean of its milestones."""

    SCOPE_NODE_FIELD = "project__node"

    project = models.ForeignKey(
        Project, verbose_name=_("project"), on_delete=models.PROTECT, related_name="milestones"
    )
    title = models.CharField(_("title"), max_length=100)
    due_on = models.DateField(_("due on"), null=True, blank=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1, validators=[MinValueValidator(1)])
    progress = models.PositiveSmallIntegerField(
        _("progress %"), default=0, validators=[MaxValueValidator(100)]
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class ResourceBooking(models.Model):
    """The community booking part of a resource for a project or demand."""

    SCOPE_NODE_FIELD = "resource__community"

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="bookings"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    purpose = models.CharField(_("purpose"), max_length=200)
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    demand = models.ForeignKey(
        Demand,
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("booked by"), on_delete=models.PROTECT, related_name="+"
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resource booking")
        verbose_name_plural = _("resource bookings")
        ordering = ["-booked_at"]

    def __str__(self) -> str:
        return f"{self.resource} × {self.quantity}"


class Claim(models.Model):
    """A unit or party member taking on a demand, micro-wish or project (认领)."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="claims"
    )
    demand = models.ForeignKey(
        Demand,
        verbose_name=_("demand"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    project = models.ForeignKey(
        Project,
        verbose_name=_("project"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.CLAIMED
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    feedback_rating = models.PositiveSmallIntegerField(
        _("beneficiary's rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    feedback = models.CharField(_("beneficiary's feedback"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    # Every change, with who made it (django-simple-history); staff read it on the admin's history page.
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-claimed_at"]
        constraints = [
            models.CheckConstraint(condition=_ONE_PARTY, name="claim_unit_or_member"),
            models.CheckConstraint(
                condition=(Q(demand__isnull=False) & Q(project__isnull=True))
                | (Q(demand__isnull=True) & Q(project__isnull=False)),
                name="claim_demand_or_project",
            ),
        ]
        indexes = [models.Index(fields=["demand", "status"], name="claim_demand_status_idx")]

    def __str__(self) -> str:
        return f"{self.unit or self.member} → {self.demand or self.project}"

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grid.models import CoBuildingUnit, GridNode, PartyMembership, PartyOrganization
from residents.choices import Colour
from services.choices import (
    AccountKind,
    AssessmentStatus,
    DeliveryKind,
    EntryKind,
    OrganizerKind,
    ParticipantRole,
    Recurrence,
    RewardKind,
)


def new_checkin_code() -> str:
    return secrets.token_urlsafe(9)


class EventKind(models.Model):
    """A kind of service event (admin-editable), with the points an hour of it earns."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    points_per_hour = models.PositiveSmallIntegerField(_("points per hour"), default=10)
    is_co_building = models.BooleanField(_("counts as a co-building activity"), default=False)

    class Meta:
        verbose_name = _("event kind")
        verbose_name_plural = _("event kinds")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EventSeries(models.Model):
    """A recurring event (weekly red-film night, 医养大集 on the 25th); occurrences are generated."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="event_series"
    )
    kind = models.ForeignKey(
        EventKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="series"
    )
    title = models.CharField(_("title"), max_length=100)
    recurrence = models.CharField(_("repeats"), max_length=8, choices=Recurrence.choices)
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), null=True, blank=True, validators=[MaxValueValidator(6)], help_text=_("0 = Monday")
    )
    day_of_month = models.PositiveSmallIntegerField(
        _("day of month"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    start_time = models.TimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), default=120)
    place = models.CharField(_("where"), max_length=100, blank=True)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)

    class Meta:
        verbose_name = _("event series")
        verbose_name_plural = _("event series")
        constraints = [
            models.CheckConstraint(
                condition=(Q(recurrence="weekly") & Q(weekday__isnull=False))
                | (Q(recurrence="monthly") & Q(day_of_month__isnull=False)),
                name="series_rule_complete",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ServiceEvent(models.Model):
    """A service event: volunteer service, co-building activity, class, free clinic, haircut..."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="service_events"
    )
    kind = models.ForeignKey(
        EventKind, verbose_name=_("kind"), on_delete=models.PROTECT, related_name="events"
    )
    series = models.ForeignKey(
        EventSeries,
        verbose_name=_("series"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    title = models.CharField(_("title"), max_length=100)
    organizer_kind = models.CharField(_("organized by"), max_length=12, choices=OrganizerKind.choices)
    organizer_unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("organizing unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    organizer_org = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organizing party organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    place = models.CharField(_("where"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    beneficiary_count = models.PositiveIntegerField(_("people served (count)"), default=0)
    beneficiaries = models.ManyToManyField(
        "residents.Resident", verbose_name=_("residents served"), blank=True, related_name="service_events"
    )
    checkin_code = models.CharField(_("sign-in code"), max_length=16, unique=True, default=new_checkin_code)
    points_awarded_at = models.DateTimeField(_("points awarded at"), null=True, blank=True)
    # A cancelled event stays on record with who called it off and why; it counts in no figure.
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cancelled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("service event")
        verbose_name_plural = _("service events")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=["series", "starts_at"],
                condition=Q(series__isnull=False),
                name="event_one_per_series_slot",
            ),
        ]
        indexes = [models.Index(fields=["starts_at"], name="event_starts_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def hours(self) -> float:
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 2)


class Participation(models.Model):
    """Someone who served at an event: role, hours, when they signed in."""

    SCOPE_NODE_FIELD = "event__node"

    event = models.ForeignKey(
        ServiceEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(_("role"), max_length=20, choices=ParticipantRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    name = models.CharField(_("name"), max_length=50)
    hours = models.DecimalField(_("hours"), max_digits=5, decimal_places=2, validators=[MinValueValidator(0)])
    checked_in_at = models.DateTimeField(_("signed in at"), default=timezone.now)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed in by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["checked_in_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], condition=Q(user__isnull=False), name="participation_one_per_user"
            ),
            models.UniqueConstraint(
                fields=["event", "member"],
                condition=Q(member__isnull=False),
                name="participation_one_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.event}"


class EventPhoto(models.Model):
    SCOPE_NODE_FIELD = "event__node"

    event = models.ForeignKey(
        ServiceEvent, verbose_name=_("event"), on_delete=models.PROTECT, related_name="photos"
    )
    image = models.ImageField(_("photo"), upload_to="events/%Y/%m/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("event photo")
        verbose_name_plural = _("event photos")

    def __str__(self) -> str:
        return self.image.name


class Programme(models.Model):
    """A service programme with an eligibility rule over residents (精准服务), e.g. 孝善食堂.

    The rule is data: {"all": [conditions]} or {"any": [...]}, nested; a condition is one of
    {"age_min": 70}, {"age_max": 17}, {"tag": "living_alone"}, {"gender": "female"},
    {"residence_kind": "registered"}, {"colour": "red"}.
    """

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("area"), on_delete=models.PROTECT, related_name="programmes"
    )
    name = models.CharField(_("name"), max_length=100)
    benefit = models.CharField(
        _("benefit"), max_length=300, help_text=_("e.g. meals at 85 percent of the price; home delivery")
    )
    rule = models.JSONField(_("eligibility rule"))
    monthly_subsidy = models.DecimalField(
        _("monthly subsidy (yuan)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    discount_percent = models.PositiveSmallIntegerField(
        _("discount %"), null=True, blank=True, validators=[MaxValueValidator(100)]
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """One delivery of a programme to an eligible resident (a meal, a haircut, an exchange)."""

    SCOPE_NODE_FIELD = "resident__household__node"

    programme = models.ForeignKey(
        Programme, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="deliveries"
    )
    resident = models.ForeignKey(
        "residents.Resident", verbose_name=_("resident"), on_delete=models.PROTECT, related_name="deliveries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DeliveryKind.choices)
    delivered_on = models.DateField(_("delivered on"), default=timezone.localdate)
    amount = models.DecimalField(
        _("subsidy used (yuan)"), max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-delivered_on", "-id"]
        indexes = [models.Index(fields=["programme", "resident", "delivered_on"], name="delivery_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.programme} → {self.resident}"


class VisitCadence(models.Model):
    """How often households of a colour are visited (red weekly, yellow monthly, blue quarterly)."""

    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, unique=True)
    days = models.PositiveSmallIntegerField(_("visit every (days)"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("visit cadence")
        verbose_name_plural = _("visit cadences")

    def __str__(self) -> str:
        return f"{self.get_colour_display()}: {self.days}"


DEFAULT_CADENCE = {Colour.RED: 7, Colour.YELLOW: 30, Colour.BLUE: 90}


class Visit(models.Model):
    """A home visit (入户走访): findings, and in the same step a ticket, a demand or a new colour."""

    SCOPE_NODE_FIELD = "household__node"

    household = models.ForeignKey(
        "residents.Household", verbose_name=_("household"), on_delete=models.PROTECT, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("visited by"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_at = models.DateTimeField(_("visited at"), default=timezone.now)
    findings = models.TextField(_("findings"), max_length=4000)
    colour_before = models.CharField(_("colour before"), max_length=8, choices=Colour.choices, blank=True)
    colour_after = models.CharField(_("colour after"), max_length=8, choices=Colour.choices, blank=True)
    ticket = models.ForeignKey(
        "demands.Ticket",
        verbose_name=_("ticket raised"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )
    demand = models.ForeignKey(
        "demands.Demand",
        verbose_name=_("demand raised"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits",
    )

    class Meta:
        verbose_name = _("home visit")
        verbose_name_plural = _("home visits")
        ordering = ["-visited_at"]
        indexes = [
            models.Index(fields=["household", "visited_at"], name="visit_household_idx"),
            models.Index(fields=["visited_at"], name="visit_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.visited_at:%Y-%m-%d}"


class VisitPhoto(models.Model):
    SCOPE_NODE_FIELD = "visit__household__node"

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="photos")
    image = models.ImageField(_("photo"), upload_to="visits/%Y/%m/")
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")

    def __str__(self) -> str:
        return self.image.name


class PointsAccount(models.Model):
    """An account of the time bank: a person's, or the community's issuing and redeeming accounts."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="points_accounts"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=AccountKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account holder"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_accounts",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_accounts",
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "kind"], condition=~Q(kind="person"), name="points_one_system_account"
            ),
            models.UniqueConstraint(
                fields=["community", "user"], condition=Q(user__isnull=False), name="points_one_per_user"
            ),
            models.UniqueConstraint(
                fields=["community", "member"],
                condition=Q(member__isnull=False),
                name="points_one_per_member",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointsTransaction(models.Model):
    """One movement of points; its entries always sum to zero (double entry)."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=EntryKind.choices)
    memo = models.CharField(_("memo"), max_length=200)
    event = models.ForeignKey(
        ServiceEvent,
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reward = models.ForeignKey(
        "Reward", verbose_name=_("reward"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("points transaction")
        verbose_name_plural = _("points transactions")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.memo


class PointsEntry(models.Model):
    """An append-only ledger line. Balances are sums of these, never stored."""

    SCOPE_NODE_FIELD = "account__community"

    transaction = models.ForeignKey(
        PointsTransaction, verbose_name=_("transaction"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        PointsAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.IntegerField(_("points"))

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        indexes = [models.Index(fields=["account"], name="points_entry_account_idx")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount:+d}"


class Reward(models.Model):
    """What points buy: goods, a service or a shop discount."""

    SCOPE_NODE_FIELD = "community"

    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="rewards"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=RewardKind.choices)
    cost = models.PositiveIntegerField(_("points"), validators=[MinValueValidator(1)])
    stock = models.PositiveIntegerField(
        _("in stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    provider = models.CharField(_("provided by"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["cost"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        # Points accounts are kept per community: a reward offered anywhere else is never redeemable.
        if self.community_id and self.community.level != "community":
            raise ValidationError({"community": _("Rewards are offered by a community.")})


class Indicator(models.Model):
    """One of the competition's aspects (网格擂台比武), its weight set by the street."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    weight = models.PositiveSmallIntegerField(_("weight"), default=10)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("competition indicator")
        verbose_name_plural = _("competition indicators")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class AssessmentRound(models.Model):
    """A month's grid competition for a street; frozen once published."""

    SCOPE_NODE_FIELD = "street"

    street = models.ForeignKey(
        GridNode, verbose_name=_("street"), on_delete=models.PROTECT, related_name="assessment_rounds"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    weights = models.JSONField(_("weights used"), default=dict)
    computed_at = models.DateTimeField(_("computed at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("assessment round")
        verbose_name_plural = _("assessment rounds")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["street", "month"], name="assessment_one_round_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.street} {self.month:%Y-%m}"


class Assessment(models.Model):
    """A grid's figures, score and rank in a round."""

    SCOPE_NODE_FIELD = "grid"

    round = models.ForeignKey(
        AssessmentRound, verbose_name=_("round"), on_delete=models.PROTECT, related_name="assessments"
    )
    grid = models.ForeignKey(
        GridNode, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="assessments"
    )
    values = models.JSONField(_("figures"), default=dict)
    score = models.DecimalField(_("score"), max_digits=7, decimal_places=2, default=0)
    rank_in_street = models.PositiveIntegerField(_("rank in street"), null=True)
    rank_in_community = models.PositiveIntegerField(_("rank in community"), null=True)

    class Meta:
        verbose_name = _("grid assessment")
        verbose_name_plural = _("grid assessments")
        ordering = ["rank_in_street"]
        constraints = [models.UniqueConstraint(fields=["round", "grid"], name="assessment_one_per_grid")]

    def __str__(self) -> str:
        return f"{self.grid} {self.score}"

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from demands.choices import Level, RatingSource, TicketSource, TicketStatus
from grid.fields import PhoneField
from grid.models import GridNode

# No 0/O, 1/I/L: codes are read aloud and typed on phones.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


class TicketCategory(models.Model):
    """A kind of problem residents report, with its service-level deadlines (admin-editable).

    Its `code` is the Open311 service_code.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    description = models.CharField(_("description"), max_length=300, blank=True)
    group = models.CharField(_("group"), max_length=60, blank=True)
    response_hours = models.PositiveIntegerField(
        _("accept within (hours)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 30)]
    )
    resolution_hours = models.PositiveIntegerField(
        _("resolve within (hours)"), validators=[MinValueValidator(1), MaxValueValidator(24 * 180)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=models.F("response_hours")),
                name="category_resolution_after_response",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    """A resident report or appeal (诉求), followed from report to rated closure."""

    SCOPE_NODE_FIELD = "node"

    tracking_code = models.CharField(
        _("tracking code"), max_length=12, unique=True, default=new_tracking_code
    )
    category = models.ForeignKey(
        TicketCategory, verbose_name=_("category"), on_delete=models.PROTECT, related_name="tickets"
    )
    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="tickets"
    )
    source = models.CharField(_("source"), max_length=16, choices=TicketSource.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=TicketStatus.choices, default=TicketStatus.SUBMITTED
    )
    level = models.PositiveSmallIntegerField(_("handled at"), choices=Level.choices, default=Level.GRID)
    description = models.TextField(_("description"), max_length=2000)
    location_text = models.CharField(_("location"), max_length=200, blank=True)
    latitude = models.FloatField(
        _("latitude"), null=True, blank=True, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.FloatField(
        _("longitude"), null=True, blank=True, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    reporter_resident = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("reporting resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone = PhoneField(_("reporter phone"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    response_due = models.DateTimeField(_("accept by"))
    resolution_due = models.DateTimeField(_("resolve by"))
    is_overdue = models.BooleanField(_("overdue"), default=False)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    rating_source = models.CharField(_("rated by"), max_length=12, choices=RatingSource.choices, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # Not auto_now_add: the deadlines are counted from this very instant.
    created_at = models.DateTimeField(_("reported at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Every change, with who made it (django-simple-history); staff read it on the admin's history page.
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="ticket_rating_range"
            ),
            models.CheckConstraint(
                condition=~Q(status=TicketStatus.DUPLICATE) | Q(duplicate_of__isnull=False),
                name="ticket_duplicate_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "response_due"], name="ticket_status_response_idx"),
            models.Index(fields=["status", "resolution_due"], name="ticket_status_resolution_idx"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status_idx"),
            models.Index(fields=["created_at"], name="ticket_created_idx"),
            # Response, closure and satisfaction figures select tickets by when they were accepted,
            # closed and rated.
            models.Index(fields=["accepted_at"], name="ticket_accepted_idx"),
            models.Index(fields=["closed_at"], name="ticket_closed_idx"),
            models.Index(fields=["rated_at"], name="ticket_rated_idx"),
        ]
        permissions = [
            ("dispatch_ticket", "Can dispatch, reassign, reject, merge and close tickets"),
            ("reveal_reporter_ticket", "Can see the reporter's full phone number"),
        ]

    def __str__(self) -> str:
        return f"{self.tracking_code} {self.category.name}"


# Who acted, when no account did: stored as codes, shown in the reader's language.
RESIDENT, SYSTEM = "resident", "system"
ACTOR_LABELS = {RESIDENT: _("Resident"), SYSTEM: _("System")}


class TicketEvent(models.Model):
    """One step of a ticket's life: who, when, from which status to which, and why."""

    SCOPE_NODE_FIELD = "ticket__node"

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="events"
    )
    action = models.CharField(_("action"), max_length=16)
    from_status = models.CharField(_("from"), max_length=12, choices=TicketStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=TicketStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(
        _("by (label)"),
        max_length=60,
        blank=True,
        help_text=_("For actions without an account: resident, system."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticket_event_ticket_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"

    @property
    def actor_name(self) -> str:
        if self.actor_id:
            return str(self.actor)
        return str(ACTOR_LABELS.get(self.actor_label, self.actor_label))


class TicketPhoto(models.Model):
    """A photo of the problem or of the fix, re-encoded on upload (no EXIF, no GPS)."""

    SCOPE_NODE_FIELD = "ticket__node"

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.PROTECT, related_name="photos"
    )
    event = models.ForeignKey(
        TicketEvent,
        verbose_name=_("event"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
    )
    image = models.ImageField(_("photo"), upload_to="tickets/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="tickets/%Y/%m/", blank=True)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket photo")
        verbose_name_plural = _("ticket photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.image.name

    @property
    def preview_url(self) -> str:
        """The thumbnail for lists of photos, or the photo itself where none was made."""
        return (self.thumbnail or self.image).url


class ApiClient(models.Model):
    """Another system (e.g. the 12345 hotline) allowed to file and read tickets through Open311,
    within one node's subtree. Only a hash of its key is stored."""

    SCOPE_NODE_FIELD = "node"

    name = models.CharField(_("name"), max_length=100)
    node = models.ForeignKey(
        GridNode, verbose_name=_("allowed subtree"), on_delete=models.PROTECT, related_name="api_clients"
    )
    key_prefix = models.CharField(_("key prefix"), max_length=8, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client")
        verbose_name_plural = _("Open311 clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

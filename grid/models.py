from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node

from grid.choices import Gender, NodeLevel, PartyLevel, PartyMemberKind, Role, UnitKind
from grid.fields import PhoneField
from grid.validators import node_code_validator, validate_geojson_geometry


class User(AbstractUser):
    """A staff or field account. What it may see follows from its assignments to nodes."""

    # An account belongs to the node (usually a community or the street) that manages it.
    SCOPE_NODE_FIELD = "home_node"

    name = models.CharField(_("name"), max_length=50, blank=True)
    phone = PhoneField(_("phone"), blank=True)
    home_node = models.ForeignKey(
        "grid.GridNode",
        verbose_name=_("home node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="home_users",
        help_text=_("The street or community office that manages this account."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.name or self.username


class GridNode(MP_Node):
    """A node of the spatial grid tree: street, community, grid, compound, building or unit.

    The materialized path makes "this node and everything under it" one indexed prefix query.
    `parent` mirrors the path's parent so that foreign-key tools (admin autocomplete, PROTECT)
    work; the services keep both in step.
    """

    SCOPE_NODE_FIELD = ""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent node"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_nodes",
    )
    level = models.CharField(_("level"), max_length=16, choices=NodeLevel.choices)
    code = models.CharField(_("code"), max_length=64, unique=True, validators=[node_code_validator])
    name = models.CharField(_("name"), max_length=100)
    geometry = models.JSONField(
        _("geometry"),
        null=True,
        blank=True,
        validators=[validate_geojson_geometry],
        help_text=_("GeoJSON Point, Polygon or MultiPolygon in longitude/latitude, for the map."),
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("grid node")
        verbose_name_plural = _("grid nodes")
        ordering = ["path"]
        indexes = [
            # A prefix LIKE uses this index whatever the database collation.
            models.Index(
                fields=["path"], name="grid_node_path_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["level", "path"], name="grid_node_level_path_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class PartyOrganization(MP_Node):
    """A party organization, embedded at the grid node it serves."""

    SCOPE_NODE_FIELD = "node"

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent organization"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="child_organizations",
    )
    level = models.CharField(_("level"), max_length=24, choices=PartyLevel.choices)
    name = models.CharField(_("name"), max_length=100)
    node = models.ForeignKey(
        GridNode,
        verbose_name=_("grid node served"),
        on_delete=models.PROTECT,
        related_name="party_organizations",
    )
    secretary_name = models.CharField(_("secretary"), max_length=50, blank=True)
    established_on = models.DateField(_("established on"), null=True, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("party organization")
        verbose_name_plural = _("party organizations")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="party_org_path_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CoBuildingUnit(models.Model):
    """A unit that signed a co-building agreement (共驻共建协议) with a community."""

    SCOPE_NODE_FIELD = "community"

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=UnitKind.choices)
    community = models.ForeignKey(
        GridNode, verbose_name=_("community"), on_delete=models.PROTECT, related_name="co_building_units"
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = PhoneField(_("contact phone"))
    agreement_signed_on = models.DateField(_("agreement signed on"))
    agreement_ends_on = models.DateField(_("agreement ends on"), null=True, blank=True)
    committee_member = models.CharField(
        _("member of the big party committee"),
        max_length=50,
        blank=True,
        help_text=_("The unit leader who sits on the community's big party committee as a part-time member."),
    )
    offer_summary = models.TextField(_("what the unit offers"), blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("co-building unit")
        verbose_name_plural = _("co-building units")
        ordering = ["community__path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="unit_unique_name_per_community"),
            models.CheckConstraint(
                condition=Q(agreement_ends_on__isnull=True)
                | Q(agreement_ends_on__gte=models.F("agreement_signed_on")),
                name="unit_agreement_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def agreement_active(self) -> bool:
        today = timezone.localdate()
        return self.agreement_signed_on <= today and (
            self.agreement_ends_on is None or self.agreement_ends_on >= today
        )


class PartyMembership(models.Model):
    """A party member's membership of one organization.

    Kinds: resident member, in-service member registered with the community, party representative.
    """

    SCOPE_NODE_FIELD = "organization__node"

    organization = models.ForeignKey(
        PartyOrganization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=8, choices=Gender.choices, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=PartyMemberKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_memberships",
    )
    work_unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("work unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_members",
        help_text=_("For in-service members: the co-building unit they work at."),
    )
    joined_on = models.DateField(_("joined the party on"), null=True, blank=True)
    registered_on = models.DateField(_("registered with the community on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("party membership")
        verbose_name_plural = _("party memberships")
        ordering = ["organization__path", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=PartyMemberKind.IN_SERVICE) | Q(registered_on__isnull=False),
                name="membership_in_service_registered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AssignmentQuerySet(models.QuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        # ended_on is the first day out of post: ending an assignment today revokes it at once.
        return self.filter(Q(started_on__lte=on), Q(ended_on__isnull=True) | Q(ended_on__gt=on))


class Assignment(models.Model):
    """A user's role on a node, valid for the node's whole subtree while current.

    On a grid, the worker with `is_primary` holds the A post and receives tickets; another worker
    of the same role is the B post (backup).
    """

    SCOPE_NODE_FIELD = "node"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="assignments"
    )
    node = models.ForeignKey(
        GridNode, verbose_name=_("node"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    is_primary = models.BooleanField(_("primary (A post)"), default=False)
    started_on = models.DateField(_("started on"), default=timezone.localdate)
    ended_on = models.DateField(
        _("ended on"),
        null=True,
        blank=True,
        help_text=_("The first day out of post; the role stops that day."),
    )
    away_until = models.DateField(
        _("away until"),
        null=True,
        blank=True,
        help_text=_("On leave up to and including this day: new tickets go to the B post meanwhile."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["node__path", "role", "-is_primary"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "node", "role"],
                condition=Q(ended_on__isnull=True),
                name="assignment_unique_open_role",
            ),
            models.UniqueConstraint(
                fields=["node", "role"],
                condition=Q(ended_on__isnull=True, is_primary=True),
                name="assignment_one_open_primary",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="assignment_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["user", "ended_on"], name="assignment_user_open_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.node}"


class IdempotencyRecord(models.Model):
    """The first response to a write sent with an Idempotency-Key; a repeat gets it back."""

    scope = models.CharField(_("scope"), max_length=64)
    key = models.CharField(_("key"), max_length=100)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    body = models.JSONField(_("response"), null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class MetricValue(models.Model):
    """One rolled-up figure: a metric for a node's whole subtree over one period.

    Rates are stored as numerator (`value`) and `denominator`, so that a parent's rate is
    computed from its own sums, never as the mean of its children's rates.
    """

    SCOPE_NODE_FIELD = "node"

    # No index of its own: the unique cell index leads with the node. No database constraint
    # either: a rebuild writes a million cells, and a deferred check per row would cost more than
    # the rollup itself. Cells are derived data, written only by the engine from existing nodes;
    # nodes are archived, not deleted, and the ORM still protects a node with cells.
    node = models.ForeignKey(
        GridNode,
        verbose_name=_("node"),
        on_delete=models.PROTECT,
        related_name="metric_values",
        db_index=False,
        db_constraint=False,
    )
    metric = models.CharField(_("metric"), max_length=40)
    period_kind = models.CharField(_("period"), max_length=8)
    period_start = models.DateField(_("period start"))
    dimension = models.CharField(_("dimension"), max_length=40, blank=True, default="")
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=2)
    denominator = models.DecimalField(_("denominator"), max_digits=18, decimal_places=2, null=True)
    computed_at = models.DateTimeField(_("computed at"), auto_now=True)

    class Meta:
        verbose_name = _("metric value")
        verbose_name_plural = _("metric values")
        constraints = [
            # Node, then period: a dashboard reads every figure of 500 children for one period
            # as 500 short index ranges, not 500 x figures separate lookups.
            models.UniqueConstraint(
                fields=["node", "period_kind", "period_start", "dimension", "metric"],
                name="metric_value_unique_cell",
            )
        ]
        # Two indexes in all, as every rebuild writes through them: the unique cell (node first:
        # trends, rankings, and the incremental re-sum of a node's days) and the period (the
        # cells of one period range, for rollups and the API). On PostgreSQL the store is
        # partitioned by metric (migration 0009, `grid.partitions`): every table holds one
        # metric, so the period index leaves it out, and each table has extended statistics on
        # (period kind, period start), without which PostgreSQL takes "year cells starting on
        # 1 January" for a rare pair and scans the wrong index.
        indexes = [
            models.Index(fields=["period_kind", "period_start"], name="metric_value_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.period_kind} {self.period_start}"


class MetricLock(models.Model):
    """One row per metric: a rollup of that metric holds it, so a second run waits."""

    metric = models.CharField(_("metric"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("metric lock")
        verbose_name_plural = _("metric locks")

    def __str__(self) -> str:
        return self.metric


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the periodic heartbeat task, for operators."""

    hostname = models.CharField(_("worker"), max_length=200, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.hostname


class DirtyCell(models.Model):
    """A (metric, day) whose cells a committed change altered and the incremental job has not yet
    rolled up. Written in the changing transaction itself, so a mark exists exactly when the change
    does, whatever happens to Redis or the workers afterwards. Append-only: concurrent changes never
    wait on each other's marks; the job deletes the rows it read once it has rolled them up."""

    metric = models.CharField(_("metric"), max_length=40)
    day = models.DateField(_("day"))
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("metric cell to roll up")
        verbose_name_plural = _("metric cells to roll up")

    def __str__(self):
        return f"{self.metric} {self.day}"

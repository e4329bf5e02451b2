"""Resident deliberation (居民议事): 议事—协调—表决—实施."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demands.choices import ParticipantKind, TopicOrigin, TopicStatus
from grid.models import CoBuildingUnit, GridNode, PartyMembership


class Topic(models.Model):
    """A matter residents deliberate on, e.g. parking around the compound."""

    SCOPE_NODE_FIELD = "node"

    node = models.ForeignKey(
        GridNode, verbose_name=_("place"), on_delete=models.PROTECT, related_name="topics"
    )
    title = models.CharField(_("title"), max_length=100)
    description = models.TextField(_("description"), max_length=4000)
    origin = models.CharField(_("raised by"), max_length=12, choices=TopicOrigin.choices)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_tickets = models.ManyToManyField(
        "demands.Ticket", verbose_name=_("from tickets"), blank=True, related_name="topics"
    )
    status = models.CharField(
        _("status"), max_length=14, choices=TopicStatus.choices, default=TopicStatus.RAISED
    )
    decision = models.TextField(_("decision"), blank=True, max_length=4000)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True, max_length=4000)
    praised = models.BooleanField(_("on the praise board"), default=False)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now)

    class Meta:
        verbose_name = _("deliberation topic")
        verbose_name_plural = _("deliberation topics")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class TopicParticipant(models.Model):
    """Someone taking part: resident representative, party member, unit, deputy or staff."""

    SCOPE_NODE_FIELD = "topic__node"

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="participants"
    )
    kind = models.CharField(_("kind"), max_length=14, choices=ParticipantKind.choices)
    name = models.CharField(_("name"), max_length=100)
    resident = models.ForeignKey(
        "residents.Resident",
        verbose_name=_("resident"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    member = models.ForeignKey(
        PartyMembership,
        verbose_name=_("party member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        CoBuildingUnit,
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "kind", "name"], name="participant_unique_per_topic")
        ]

    def __str__(self) -> str:
        return self.name


class Meeting(models.Model):
    """A consultation meeting with its minutes."""

    SCOPE_NODE_FIELD = "topic__node"

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="meetings"
    )
    held_at = models.DateTimeField(_("held at"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    minutes = models.TextField(_("minutes"), max_length=8000)
    attendees = models.ManyToManyField(
        TopicParticipant, verbose_name=_("attendees"), blank=True, related_name="meetings"
    )

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["held_at"]

    def __str__(self) -> str:
        return f"{self.topic} · {self.held_at:%Y-%m-%d}"


class TopicOption(models.Model):
    SCOPE_NODE_FIELD = "topic__node"

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="options"
    )
    title = models.CharField(_("option"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("option")
        verbose_name_plural = _("options")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Ballot(models.Model):
    """One participant's vote; one ballot per participant per topic."""

    SCOPE_NODE_FIELD = "topic__node"

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="ballots"
    )
    participant = models.ForeignKey(
        TopicParticipant, verbose_name=_("participant"), on_delete=models.PROTECT, related_name="ballots"
    )
    option = models.ForeignKey(
        TopicOption, verbose_name=_("option"), on_delete=models.PROTECT, related_name="ballots"
    )
    cast_at = models.DateTimeField(_("cast at"), default=timezone.now)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [
            models.UniqueConstraint(fields=["topic", "participant"], name="ballot_one_per_participant")
        ]

    def __str__(self) -> str:
        return f"{self.participant} → {self.option}"

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketSource(models.TextChoices):
    QR = "qr", _("Resident (QR code)")
    PATROL = "patrol", _("Grid worker patrol or visit")
    STAFF = "staff", _("Staff entry (phone, walk-in, window)")
    HOTLINE = "hotline", _("Hotline transfer (12345)")
    DELIBERATION = "deliberation", _("Deliberation outcome")
    OPEN311 = "open311", _("Connected system (Open311)")


class TicketStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ASSIGNED = "assigned", _("Assigned")
    ACCEPTED = "accepted", _("Accepted")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    RETURNED = "returned", _("Returned")
    ESCALATED = "escalated", _("Escalated")
    REOPENED = "reopened", _("Reopened")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


# Statuses in which a ticket is finished (Open311 "closed").
FINAL_STATUSES = {TicketStatus.CLOSED, TicketStatus.REJECTED, TicketStatus.DUPLICATE}
# Statuses that wait for someone to take the ticket (the response deadline runs).
WAITING_STATUSES = {
    TicketStatus.SUBMITTED,
    TicketStatus.ASSIGNED,
    TicketStatus.RETURNED,
    TicketStatus.ESCALATED,
    TicketStatus.REOPENED,
}


class Level(models.IntegerChoices):
    """Who handles a ticket: "小事不出网格，大事不出社区"."""

    GRID = 0, _("Grid")
    COMMUNITY = 1, _("Community")
    STREET = 2, _("Street")


class RatingSource(models.TextChoices):
    RESIDENT = "resident", _("Rated by the resident")
    CALLBACK = "callback", _("Phone callback by staff")

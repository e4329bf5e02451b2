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


class RegistrationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DemandKind(models.TextChoices):
    FACILITIES = "facilities", _("Facilities (e.g. handrails)")
    CARE = "care", _("Care and company")
    MEALS = "meals", _("Meals and delivery")
    MEDICAL = "medical", _("Health and medical")
    LEGAL = "legal", _("Legal advice")
    GOODS = "goods", _("Goods (e.g. a wheelchair)")
    EDUCATION = "education", _("Study and children")
    CULTURE = "culture", _("Culture and activities")
    EMPLOYMENT = "employment", _("Jobs and skills")
    OTHER = "other", _("Other")


class DemandSource(models.TextChoices):
    RESIDENT = "resident", _("Raised by a resident")
    VISIT = "visit", _("Home visit")
    TICKET = "ticket", _("From a ticket")
    DELIBERATION = "deliberation", _("From deliberation")
    STAFF = "staff", _("Staff")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class DemandStatus(models.TextChoices):
    OPEN = "open", _("Open for claiming")
    CLAIMED = "claimed", _("Claimed")
    FULFILLED = "fulfilled", _("Fulfilled")
    CANCELLED = "cancelled", _("Cancelled")


class ResourceKind(models.TextChoices):
    VENUE = "venue", _("Venue")
    VOLUNTEERS = "volunteers", _("Volunteers")
    FUNDS = "funds", _("Funds")
    EXPERTISE = "expertise", _("Expertise")
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")


class BookingStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    USED = "used", _("Used")
    CANCELLED = "cancelled", _("Cancelled")


class ProjectStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ClaimStatus(models.TextChoices):
    CLAIMED = "claimed", _("Claimed")
    IN_PROGRESS = "in_progress", _("In progress")
    FULFILLED = "fulfilled", _("Fulfilled")
    WITHDRAWN = "withdrawn", _("Withdrawn")


ACTIVE_CLAIM_STATUSES = {ClaimStatus.CLAIMED, ClaimStatus.IN_PROGRESS}


class TopicStatus(models.TextChoices):
    """议事—协调—表决—实施"""

    RAISED = "raised", _("Raised")
    CONSULTING = "consulting", _("In consultation")
    VOTING = "voting", _("Voting")
    DECIDED = "decided", _("Decided")
    IMPLEMENTING = "implementing", _("Being implemented")
    DONE = "done", _("Done")
    DROPPED = "dropped", _("Dropped")


class TopicOrigin(models.TextChoices):
    RESIDENT = "resident", _("Residents")
    STAFF = "staff", _("Community staff")
    GRID_WORKER = "grid_worker", _("Grid worker")
    TICKETS = "tickets", _("A cluster of similar tickets")


class ParticipantKind(models.TextChoices):
    RESIDENT_REP = "resident_rep", _("Resident representative")
    PARTY_MEMBER = "party_member", _("Party member")
    UNIT = "unit", _("Co-building unit")
    DEPUTY = "deputy", _("People's deputy")
    STAFF = "staff", _("Community staff")

"""What each role may do with tickets."""

from grid.choices import Role
from grid.permissions import ALL_ROLES, COMMUNITY_OFFICE, FIELD_WORKERS, LEADERS, grant, perms

HANDLERS = COMMUNITY_OFFICE | {Role.GRID_CHIEF, Role.GRID_WORKER, Role.PART_TIME_WORKER}


def register() -> None:
    grant(ALL_ROLES, perms("demands", "ticketcategory", "view"))
    grant(
        LEADERS | COMMUNITY_OFFICE | FIELD_WORKERS,
        perms("demands", "ticket", "view"),
        perms("demands", "ticketevent", "view"),
    )
    # Anyone in the field may report what they find; building and unit leads too.
    grant(COMMUNITY_OFFICE | FIELD_WORKERS, perms("demands", "ticket", "add"))
    grant(HANDLERS, perms("demands", "ticket", "change"), {"demands.reveal_reporter_ticket"})
    grant(COMMUNITY_OFFICE | {Role.GRID_CHIEF}, {"demands.dispatch_ticket"})
    grant(COMMUNITY_OFFICE, perms("demands", "apiclient", "view", "add", "change"))

    # The three lists, claims and deliberation.
    everyone_working = (
        LEADERS | COMMUNITY_OFFICE | FIELD_WORKERS | {Role.VOLUNTEER, Role.PARTY_REPRESENTATIVE}
    )
    for model in (
        "demand",
        "resource",
        "resourcebooking",
        "project",
        "milestone",
        "claim",
        "topic",
        "topicparticipant",
        "meeting",
        "topicoption",
        "ballot",
    ):
        grant(everyone_working, perms("demands", model, "view"))
    grant(LEADERS | COMMUNITY_OFFICE, perms("demands", "communityregistration", "view"))
    # Needs are collected on visits too.
    grant(COMMUNITY_OFFICE | FIELD_WORKERS, perms("demands", "demand", "add"))
    grant(
        COMMUNITY_OFFICE,
        perms("demands", "demand", "change"),
        perms("demands", "resource", "add", "change"),
        perms("demands", "resourcebooking", "add", "change"),
        perms("demands", "project", "add", "change"),
        perms("demands", "milestone", "add", "change"),
        perms("demands", "claim", "add", "change"),
        perms("demands", "communityregistration", "add", "change"),
        perms("demands", "topic", "add", "change"),
        perms("demands", "topicparticipant", "add"),
        perms("demands", "meeting", "add"),
        perms("demands", "topicoption", "add"),
        perms("demands", "ballot", "add"),
    )
    # A registered party member (volunteer role) claims micro-wishes on the phone.
    grant({Role.VOLUNTEER, Role.PARTY_REPRESENTATIVE}, perms("demands", "claim", "add"))

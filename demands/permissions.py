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

"""What each role may do with services, visits, points and the competition."""

from grid.choices import Role
from grid.permissions import ALL_ROLES, COMMUNITY_OFFICE, FIELD_WORKERS, LEADERS, grant, perms

CASEWORKERS = COMMUNITY_OFFICE | {Role.GRID_CHIEF, Role.GRID_WORKER, Role.PART_TIME_WORKER}


def register() -> None:
    grant(ALL_ROLES, perms("services", "serviceevent", "view"), perms("services", "eventkind", "view"))
    grant(
        LEADERS | COMMUNITY_OFFICE | FIELD_WORKERS,
        perms("services", "participation", "view"),
        perms("services", "visit", "view"),
        perms("services", "programme", "view"),
        perms("services", "delivery", "view"),
        perms("services", "assessment", "view"),
        perms("services", "assessmentround", "view"),
        perms("services", "reward", "view"),
    )
    grant(
        CASEWORKERS,
        perms("services", "serviceevent", "add", "change"),
        perms("services", "participation", "add"),
        perms("services", "visit", "add"),
    )
    grant(
        COMMUNITY_OFFICE,
        perms("services", "programme", "add", "change"),
        perms("services", "delivery", "add"),
        perms("services", "eventseries", "view", "add", "change"),
        perms("services", "pointsaccount", "view", "add"),
        perms("services", "pointstransaction", "view", "add"),
        perms("services", "pointsentry", "view"),
        perms("services", "reward", "add", "change"),
    )
    grant(LEADERS, perms("services", "pointsaccount", "view"), perms("services", "pointsentry", "view"))
    # The street sets the weights and publishes the monthly competition.
    grant(
        LEADERS | {Role.COMMUNITY_STAFF},
        perms("services", "assessmentround", "add", "change"),
        perms("services", "assessment", "add"),
        perms("services", "indicator", "view", "change"),
    )

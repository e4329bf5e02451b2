"""What each role may do, as data. Apps add their own models' grants in `AppConfig.ready()`.

A grant says what a role may do; the scope rule (grid.scope) says where: on the subtree of
the node the role is held on.
"""

from collections.abc import Iterable

from grid.choices import Role

ROLE_PERMISSIONS: dict[str, set[str]] = {role: set() for role in Role.values}

LEADERS = {Role.STREET_LEADER}
COMMUNITY_OFFICE = {Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF}
FIELD_WORKERS = {
    Role.GRID_CHIEF,
    Role.GRID_WORKER,
    Role.PART_TIME_WORKER,
    Role.BUILDING_LEAD,
    Role.UNIT_LEAD,
}
HELPERS = {Role.VOLUNTEER, Role.PARTY_REPRESENTATIVE}
ALL_ROLES = set(Role)


def perms(app_label: str, model: str, *actions: str) -> set[str]:
    return {f"{app_label}.{action}_{model}" for action in actions}


def grant(roles: Iterable[str], *permission_sets: Iterable[str]) -> None:
    for role in roles:
        for permission_set in permission_sets:
            ROLE_PERMISSIONS[role].update(permission_set)


def roles_granting(permission: str) -> set[str]:
    return {role for role, granted in ROLE_PERMISSIONS.items() if permission in granted}


# Grid app grants.
grant(ALL_ROLES, perms("grid", "gridnode", "view"))
grant(
    LEADERS | COMMUNITY_OFFICE | FIELD_WORKERS,
    perms("grid", "partyorganization", "view"),
    perms("grid", "cobuildingunit", "view"),
    perms("grid", "assignment", "view"),
)
grant(LEADERS | COMMUNITY_OFFICE | {Role.GRID_CHIEF}, perms("grid", "partymembership", "view"))
grant(LEADERS | COMMUNITY_OFFICE, perms("grid", "user", "view"))
grant(
    COMMUNITY_OFFICE,
    perms("grid", "gridnode", "add", "change"),
    perms("grid", "partyorganization", "add", "change"),
    perms("grid", "partymembership", "add", "change"),
    perms("grid", "cobuildingunit", "add", "change"),
)
# Staffing a community is the secretary's call.
grant(
    {Role.COMMUNITY_SECRETARY},
    perms("grid", "assignment", "add", "change"),
    perms("grid", "user", "add", "change"),
)

# The dashboards.
grant(LEADERS | COMMUNITY_OFFICE | {Role.GRID_CHIEF}, perms("grid", "metricvalue", "view"))

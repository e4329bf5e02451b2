"""What each role may do with the resident register."""

from grid.choices import Role
from grid.permissions import COMMUNITY_OFFICE, FIELD_WORKERS, LEADERS, grant, perms

CASEWORKERS = COMMUNITY_OFFICE | {Role.GRID_CHIEF, Role.GRID_WORKER}


def register() -> None:
    grant(
        LEADERS | COMMUNITY_OFFICE | FIELD_WORKERS,
        perms("residents", "household", "view"),
        perms("residents", "resident", "view"),
        perms("residents", "caretag", "view"),
        perms("residents", "colourmark", "view"),
    )
    grant(
        CASEWORKERS,
        perms("residents", "household", "add", "change"),
        perms("residents", "resident", "add", "change"),
        perms("residents", "caretag", "add", "change"),
        perms("residents", "colourmark", "add"),
        # Health, disability and low-income status: those who care for the person.
        {"residents.view_sensitive_resident"},
        # To call a resident back.
        {"residents.reveal_phone_resident"},
    )
    grant({Role.PART_TIME_WORKER}, {"residents.reveal_phone_resident"})
    grant(
        COMMUNITY_OFFICE,
        {"residents.reveal_id_resident", "residents.import_resident", "residents.export_resident"},
        perms("residents", "importjob", "add", "view"),
    )
    grant(LEADERS, {"residents.export_resident"})
    grant({Role.COMMUNITY_SECRETARY}, perms("residents", "accesslog", "view"))

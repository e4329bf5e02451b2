"""The grid workers' phone menu at /m/. Apps add their entries in `AppConfig.ready()`, so the
menu lives in `grid` without `grid` importing them."""

from dataclasses import dataclass


@dataclass(frozen=True)
class MenuEntry:
    url_name: str
    label: str
    permission: str
    order: int = 100


MENU: list[MenuEntry] = []


def register(entry: MenuEntry) -> None:
    if entry not in MENU:
        MENU.append(entry)
        MENU.sort(key=lambda e: e.order)


def entries_for(user) -> list[MenuEntry]:
    """The entries the user's rights open; an entry with no permission is everyone's own page."""
    return [entry for entry in MENU if not entry.permission or user.has_perm(entry.permission)]

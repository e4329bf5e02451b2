from django.db import models
from django.utils.translation import gettext_lazy as _


class HousingKind(models.TextChoices):
    OWNER = "owner", _("Owner-occupied")
    TENANT = "tenant", _("Rented")
    PUBLIC_RENTAL = "public_rental", _("Public rental housing")
    AFFORDABLE = "affordable", _("Affordable housing")
    OTHER = "other", _("Other")


class Relation(models.TextChoices):
    HEAD = "head", _("Head of household")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class ResidenceKind(models.TextChoices):
    REGISTERED = "registered", _("Registered (hukou)")
    LONG_TERM = "long_term", _("Long-term resident")
    FLOATING = "floating", _("Floating population")


class PoliticalStatus(models.TextChoices):
    PARTY_MEMBER = "party_member", _("Communist Party member")
    LEAGUE_MEMBER = "league_member", _("Communist Youth League member")
    MASSES = "masses", _("Ordinary citizen")
    OTHER = "other", _("Other")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("Living here")
    MOVED_OUT = "moved_out", _("Moved out")
    DECEASED = "deceased", _("Deceased")


class Colour(models.TextChoices):
    """Three-colour management: the colour sets the home-visit cadence."""

    RED = "red", _("Red: close attention")
    YELLOW = "yellow", _("Yellow: regular attention")
    BLUE = "blue", _("Blue: routine")


class CareTagKind(models.TextChoices):
    """Care groups (重点人群). Elderly bands are derived from the birth date, never tagged."""

    LIVING_ALONE = "living_alone", _("Living alone")
    EMPTY_NEST = "empty_nest", _("Empty-nest elderly")
    LOW_INCOME = "low_income", _("Minimum living allowance (低保)")
    EXTREME_POVERTY = "extreme_poverty", _("Extreme poverty support (特困)")
    DISABLED = "disabled", _("Disability")
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder", _("Severe mental disorder")
    SERIOUS_ILLNESS = "serious_illness", _("Serious illness")
    VETERAN = "veteran", _("Veteran")
    LEFT_BEHIND_CHILD = "left_behind_child", _("Left-behind child")
    UNEMPLOYED = "unemployed", _("Unemployed")
    PREGNANT = "pregnant", _("Pregnant")
    MINOR_IN_NEED = "minor_in_need", _("Minor in need")


# Sensitive personal information (PIPL art. 28): health, disability and low-income status.
SENSITIVE_TAGS = frozenset(
    {
        CareTagKind.LOW_INCOME,
        CareTagKind.EXTREME_POVERTY,
        CareTagKind.DISABLED,
        CareTagKind.SEVERE_MENTAL_DISORDER,
        CareTagKind.SERIOUS_ILLNESS,
        CareTagKind.PREGNANT,
    }
)


class AgeBand(models.TextChoices):
    CHILD = "0-17", _("0–17")
    YOUNG = "18-34", _("18–34")
    ADULT = "35-59", _("35–59")
    SIXTIES = "60-69", _("60–69")
    SEVENTIES = "70-79", _("70–79")
    EIGHTY_PLUS = "80+", _("80 and over")


# (band, lowest age, highest age or None)
AGE_BAND_LIMITS = [
    (AgeBand.CHILD, 0, 17),
    (AgeBand.YOUNG, 18, 34),
    (AgeBand.ADULT, 35, 59),
    (AgeBand.SIXTIES, 60, 69),
    (AgeBand.SEVENTIES, 70, 79),
    (AgeBand.EIGHTY_PLUS, 80, None),
]


class AccessAction(models.TextChoices):
    REVEAL_ID = "reveal_id", _("Revealed the ID number")
    REVEAL_PHONE = "reveal_phone", _("Revealed the phone number")
    VIEW_SENSITIVE = "view_sensitive", _("Viewed sensitive information")
    EXPORT = "export", _("Exported")


class ImportMode(models.TextChoices):
    ALL_OR_NOTHING = "all_or_nothing", _("Write nothing if any row is bad")
    VALID_ROWS = "valid_rows", _("Import the valid rows, skip the bad ones")


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected: bad rows, nothing written")
    FAILED = "failed", _("Failed")

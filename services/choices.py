from django.db import models
from django.utils.translation import gettext_lazy as _


class OrganizerKind(models.TextChoices):
    COMMUNITY = "community", _("Community")
    UNIT = "unit", _("Co-building unit")
    PARTY_ORG = "party_org", _("Party organization")


class ParticipantRole(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    IN_SERVICE_MEMBER = "in_service_member", _("In-service party member")
    GRID_WORKER = "grid_worker", _("Grid worker")
    UNIT_STAFF = "unit_staff", _("Unit staff")


class Recurrence(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")


class DeliveryKind(models.TextChoices):
    MEAL = "meal", _("Meal")
    HOME_DELIVERY = "home_delivery", _("Meal delivered home")
    SUBSIDY_EXCHANGE = "subsidy_exchange", _("Unspent subsidy exchanged for goods")
    SERVICE = "service", _("Service given")


class EntryKind(models.TextChoices):
    EARN = "earn", _("Earned")
    REDEEM = "redeem", _("Redeemed")
    ADJUST = "adjust", _("Adjusted")


class AccountKind(models.TextChoices):
    PERSON = "person", _("Person")
    ISSUANCE = "issuance", _("Points issued by the community")
    REDEMPTION = "redemption", _("Points redeemed at the community")


class RewardKind(models.TextChoices):
    GOODS = "goods", _("Goods")
    SERVICE = "service", _("Service")
    DISCOUNT = "discount", _("Shop discount")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")

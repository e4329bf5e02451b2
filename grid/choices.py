from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeLevel(models.TextChoices):
    """Levels of the grid tree, from the top down; a child always sits strictly lower than its parent."""

    STREET = "street", _("Street")
    COMMUNITY = "community", _("Community")
    GRID = "grid", _("Grid")
    COMPOUND = "compound", _("Compound")
    BUILDING = "building", _("Building (micro-grid)")
    UNIT = "unit", _("Unit (stairwell)")


NODE_LEVEL_RANK = {level: rank for rank, level in enumerate(NodeLevel.values)}


class PartyLevel(models.TextChoices):
    """Levels of the party-building hierarchy embedded in the grid tree."""

    STREET_COMMITTEE = "street_committee", _("Street working committee")
    COMMUNITY_COMMITTEE = "community_committee", _("Community party committee")
    STATION_BRANCH = "station_branch", _("Service-station general branch")
    GRID_BRANCH = "grid_branch", _("Grid party branch")
    BUILDING_GROUP = "building_group", _("Building party group")
    CENTRAL_HOUSEHOLD = "central_household", _("Party-member central household")


PARTY_LEVEL_RANK = {level: rank for rank, level in enumerate(PartyLevel.values)}

# Where each kind of party organization is embedded in the grid tree ("党组织建在网格上").
PARTY_LEVEL_NODE_LEVELS = {
    PartyLevel.STREET_COMMITTEE: {NodeLevel.STREET},
    PartyLevel.COMMUNITY_COMMITTEE: {NodeLevel.COMMUNITY},
    PartyLevel.STATION_BRANCH: {NodeLevel.COMMUNITY, NodeLevel.GRID},
    PartyLevel.GRID_BRANCH: {NodeLevel.GRID},
    PartyLevel.BUILDING_GROUP: {NodeLevel.COMPOUND, NodeLevel.BUILDING},
    PartyLevel.CENTRAL_HOUSEHOLD: {NodeLevel.BUILDING, NodeLevel.UNIT},
}


class PartyMemberKind(models.TextChoices):
    RESIDENT = "resident", _("Resident party member")
    IN_SERVICE = "in_service", _("In-service party member (registered with the community)")
    REPRESENTATIVE = "representative", _("Party representative")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class UnitKind(models.TextChoices):
    GOVERNMENT = "government", _("Government department")
    ENTERPRISE = "enterprise", _("Enterprise")
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital or clinic")
    SOCIAL_ORGANIZATION = "social_organization", _("Social organization")
    BUSINESS = "business", _("Business or shop")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    """Roles a user holds on a node, and through it on the node's whole subtree."""

    STREET_LEADER = "street_leader", _("Street leader")
    COMMUNITY_SECRETARY = "community_secretary", _("Community secretary")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_CHIEF = "grid_chief", _("Grid chief")
    GRID_WORKER = "grid_worker", _("Full-time grid worker")
    PART_TIME_WORKER = "part_time_worker", _("Part-time grid worker")
    BUILDING_LEAD = "building_lead", _("Building lead")
    UNIT_LEAD = "unit_lead", _("Unit lead")
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTY_REPRESENTATIVE = "party_representative", _("Party representative")


_BELOW_COMMUNITY = {NodeLevel.GRID, NodeLevel.COMPOUND, NodeLevel.BUILDING, NodeLevel.UNIT}

# The node levels at which each role may be held.
ROLE_NODE_LEVELS = {
    Role.STREET_LEADER: {NodeLevel.STREET},
    Role.COMMUNITY_SECRETARY: {NodeLevel.COMMUNITY},
    Role.COMMUNITY_STAFF: {NodeLevel.STREET, NodeLevel.COMMUNITY},
    Role.GRID_CHIEF: {NodeLevel.GRID, NodeLevel.COMPOUND},
    Role.GRID_WORKER: _BELOW_COMMUNITY,
    Role.PART_TIME_WORKER: _BELOW_COMMUNITY,
    Role.BUILDING_LEAD: {NodeLevel.COMPOUND, NodeLevel.BUILDING},
    Role.UNIT_LEAD: {NodeLevel.UNIT},
    Role.VOLUNTEER: set(NodeLevel),
    Role.PARTY_REPRESENTATIVE: set(NodeLevel),
}

# Roles that may hold the primary seat of an AB post on a node.
AB_POST_ROLES = {Role.GRID_WORKER, Role.PART_TIME_WORKER}

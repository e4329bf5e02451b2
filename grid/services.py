"""Writes to the grid tree, party organizations, co-building units and assignments."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.choices import (
    AB_POST_ROLES,
    NODE_LEVEL_RANK,
    PARTY_LEVEL_NODE_LEVELS,
    PARTY_LEVEL_RANK,
    ROLE_NODE_LEVELS,
    NodeLevel,
    PartyLevel,
    PartyMemberKind,
    Role,
)
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership, PartyOrganization, User
from grid.scope import forget_scope
from grid.signals import assignment_ended, node_archiving

_TREE_FIELDS = ["path", "depth", "numchild"]


def apply_changes(instance, changes: dict, allowed: set[str]) -> None:
    """Set the changed fields, refusing any this service does not change."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    for field, value in changes.items():
        setattr(instance, field, value.strip() if isinstance(value, str) else value)


def validate_node_placement(*, parent: GridNode | None, level: str, node: GridNode | None = None) -> None:
    """The level rule and, for an existing node, that it does not move under itself."""
    if node is not None and node.pk and parent is not None and parent.path.startswith(node.path):
        raise ValidationError({"parent": _("A node cannot move under itself or its own descendants.")})
    _check_child_level(parent, level)


def _check_child_level(parent: GridNode | None, level: str) -> None:
    if level not in NODE_LEVEL_RANK:
        raise ValidationError({"level": _("Unknown level.")})
    if parent is None:
        return
    if NODE_LEVEL_RANK[level] <= NODE_LEVEL_RANK[parent.level]:
        raise ValidationError(
            {
                "level": _("A %(child)s cannot sit under a %(parent)s: a child must be at a lower level.")
                % {"child": NodeLevel(level).label, "parent": NodeLevel(parent.level).label}
            }
        )
    if parent.archived_at is not None:
        raise ValidationError({"parent": _("The parent node is archived.")})


@transaction.atomic
def node_create(
    *, parent: GridNode | None, level: str, code: str, name: str, geometry: dict | None = None
) -> GridNode:
    if parent is not None:
        parent = GridNode.objects.select_for_update().get(pk=parent.pk)
    _check_child_level(parent, level)
    node = GridNode(parent=parent, level=level, code=code.strip(), name=name.strip(), geometry=geometry)
    node.full_clean(exclude=_TREE_FIELDS)
    if parent is None:
        return GridNode.objects.add_root(instance=node)
    return GridNode.objects.add_child(parent, instance=node)


@transaction.atomic
def node_update(*, node: GridNode, **changes) -> GridNode:
    apply_changes(node, changes, {"name", "code", "geometry"})
    node.full_clean(exclude=_TREE_FIELDS)
    node.save(update_fields=[*changes, "updated_at"])
    return node


@transaction.atomic
def node_move(*, node: GridNode, new_parent: GridNode) -> GridNode:
    node = GridNode.objects.select_for_update().get(pk=node.pk)
    new_parent = GridNode.objects.select_for_update().get(pk=new_parent.pk)
    validate_node_placement(parent=new_parent, level=node.level, node=node)
    GridNode.objects.move(node, new_parent, pos="last-child")
    GridNode.objects.filter(pk=node.pk).update(parent=new_parent, updated_at=timezone.now())
    moved = GridNode.objects.get(pk=node.pk)
    _rehome_party_organizations(moved)
    _mark_moved_figures()
    return moved


def _mark_moved_figures() -> None:
    """A move changes the ancestors of every record below the node: every figure of the old and
    the new ancestors, on every day, is recomputed by the incremental job. Moves are rare."""
    from grid import rollup

    rollup.touch_history()


def _rehome_party_organizations(node: GridNode) -> None:
    """After a move, each party organization serving in the moved subtree whose parent
    organization serves elsewhere now goes under the organization of the same level at its new
    place (a grid's branch under the new community's committee), as the placement rule requires;
    with none there, the move is refused, saying what to set up first."""
    steplen = GridNode.steplen
    stranded = (
        PartyOrganization.objects.filter(node__path__startswith=node.path, parent__isnull=False)
        .exclude(parent__node__path__startswith=node.path)
        .select_related("node", "parent", "parent__node")
        .order_by("depth")
    )
    for organization in stranded:
        parent = organization.parent
        if organization.node.path.startswith(parent.node.path):
            continue  # its parent still serves a node above its new place
        above = [
            organization.node.path[:end] for end in range(steplen, len(organization.node.path) + 1, steplen)
        ]
        new_parent = (
            PartyOrganization.objects.filter(
                level=parent.level, archived_at__isnull=True, node__path__in=above
            )
            .order_by("-node__depth")
            .first()
        )
        if new_parent is None:
            raise ValidationError(
                {
                    "parent": _(
                        "%(org)s would have no %(level)s above it at the new place; set one up there first."
                    )
                    % {"org": organization.name, "level": PartyLevel(parent.level).label}
                }
            )
        PartyOrganization.objects.move(organization, new_parent, pos="last-child")
        PartyOrganization.objects.filter(pk=organization.pk).update(parent=new_parent)


@transaction.atomic
def node_archive(*, node: GridNode) -> int:
    """Archive the node and its whole subtree, with the party organizations that serve there;
    returns how many nodes were archived. Refused while work is open there (the apps say which:
    open tickets), which would otherwise stay with people who lose their posts with the node."""
    node = GridNode.objects.select_for_update().get(pk=node.pk)
    # The whole subtree, locked: a report filed on a place below now either commits before the
    # check that follows (and is counted) or waits and finds the place archived.
    list(GridNode.objects.filter(path__startswith=node.path).select_for_update().values_list("pk", flat=True))
    node_archiving.send(sender=GridNode, node=node)
    moment = timezone.now()
    # One moment for the whole subtree: a restore brings back what was archived with it, and
    # leaves what had been archived on its own before.
    PartyOrganization.objects.filter(node__path__startswith=node.path, archived_at__isnull=True).update(
        archived_at=moment
    )
    return GridNode.objects.filter(path__startswith=node.path, archived_at__isnull=True).update(
        archived_at=moment
    )


@transaction.atomic
def node_restore(*, node: GridNode) -> int:
    """Restore the node and what was archived with it (not what had been archived on its own)."""
    node = GridNode.objects.select_related("parent").get(pk=node.pk)
    if node.parent is not None and node.parent.archived_at is not None:
        raise ValidationError(_("Restore the parent node first."))
    if node.archived_at is None:
        return 0
    PartyOrganization.objects.filter(node__path__startswith=node.path, archived_at=node.archived_at).update(
        archived_at=None
    )
    return GridNode.objects.filter(path__startswith=node.path, archived_at=node.archived_at).update(
        archived_at=None
    )


def node_is_referenced(node: GridNode) -> bool:
    """Whether anything points at the node (children, assignments, organizations, registers...)."""
    if node.numchild:
        return True
    for relation in GridNode._meta.related_objects:
        if (
            relation.one_to_many
            and relation.related_model._default_manager.filter(**{relation.field.name: node}).exists()
        ):
            return True
    return False


@transaction.atomic
def node_remove(*, node: GridNode) -> str:
    """Delete a node nothing points at; archive (never delete) one that has history.

    Returns "deleted" or "archived".
    """
    node = GridNode.objects.select_for_update().get(pk=node.pk)
    if not node_is_referenced(node):
        try:
            with transaction.atomic():
                node.delete()
            return "deleted"
        except ProtectedError:
            pass
    node_archive(node=node)
    return "archived"


def validate_party_placement(*, parent: PartyOrganization | None, level: str, node: GridNode) -> None:
    errors = {}
    if level not in PARTY_LEVEL_RANK:
        raise ValidationError({"level": _("Unknown level.")})
    if node.level not in PARTY_LEVEL_NODE_LEVELS[PartyLevel(level)]:
        errors["node"] = _("A %(org)s is embedded at a %(levels)s, not at a %(node)s.") % {
            "org": PartyLevel(level).label,
            "levels": " / ".join(
                str(NodeLevel(lv).label) for lv in NodeLevel.values if lv in PARTY_LEVEL_NODE_LEVELS[level]
            ),
            "node": NodeLevel(node.level).label,
        }
    if node.archived_at is not None:
        errors["node"] = _("The grid node is archived.")
    if parent is not None:
        if PARTY_LEVEL_RANK[level] <= PARTY_LEVEL_RANK[parent.level]:
            errors["level"] = _("An organization must sit at a lower level than its parent organization.")
        if not node.path.startswith(parent.node.path):
            errors["node"] = _(
                "The organization's node must lie within the node its parent organization serves."
            )
        if parent.archived_at is not None:
            errors["parent"] = _("The parent organization is archived.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def party_organization_create(
    *,
    parent: PartyOrganization | None,
    level: str,
    name: str,
    node: GridNode,
    secretary_name: str = "",
    established_on: datetime.date | None = None,
) -> PartyOrganization:
    if parent is not None:
        parent = PartyOrganization.objects.select_for_update().select_related("node").get(pk=parent.pk)
    validate_party_placement(parent=parent, level=level, node=node)
    organization = PartyOrganization(
        parent=parent,
        level=level,
        name=name.strip(),
        node=node,
        secretary_name=secretary_name.strip(),
        established_on=established_on,
    )
    organization.full_clean(exclude=_TREE_FIELDS)
    if parent is None:
        return PartyOrganization.objects.add_root(instance=organization)
    return PartyOrganization.objects.add_child(parent, instance=organization)


@transaction.atomic
def party_organization_update(*, organization: PartyOrganization, **changes) -> PartyOrganization:
    if "node" in changes:
        parent = organization.parent and PartyOrganization.objects.select_related("node").get(
            pk=organization.parent_id
        )
        validate_party_placement(parent=parent, level=organization.level, node=changes["node"])
        # Its own organizations must still serve within the node it now serves.
        outside = (
            PartyOrganization.objects.filter(path__startswith=organization.path, archived_at__isnull=True)
            .exclude(pk=organization.pk)
            .exclude(node__path__startswith=changes["node"].path)
        )
        if outside.exists():
            raise ValidationError(
                {"node": _("Its own organizations serve outside that node; move or archive them first.")}
            )
    apply_changes(organization, changes, {"name", "secretary_name", "established_on", "node"})
    organization.full_clean(exclude=_TREE_FIELDS)
    organization.save(update_fields=list(changes))
    return organization


@transaction.atomic
def party_organization_archive(*, organization: PartyOrganization) -> int:
    return PartyOrganization.objects.filter(
        path__startswith=organization.path, archived_at__isnull=True
    ).update(archived_at=timezone.now())


@transaction.atomic
def party_membership_create(
    *,
    organization: PartyOrganization,
    name: str,
    kind: str,
    gender: str = "",
    user: User | None = None,
    work_unit: CoBuildingUnit | None = None,
    joined_on: datetime.date | None = None,
    registered_on: datetime.date | None = None,
) -> PartyMembership:
    if organization.archived_at is not None:
        raise ValidationError({"organization": _("This party organization is archived.")})
    if kind == PartyMemberKind.IN_SERVICE and registered_on is None:
        registered_on = timezone.localdate()
    membership = PartyMembership(
        organization=organization,
        name=name.strip(),
        kind=kind,
        gender=gender,
        user=user,
        work_unit=work_unit,
        joined_on=joined_on,
        registered_on=registered_on,
    )
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def party_membership_update(*, membership: PartyMembership, **changes) -> PartyMembership:
    apply_changes(
        membership,
        changes,
        {
            "name",
            "gender",
            "kind",
            "user",
            "work_unit",
            "joined_on",
            "registered_on",
            "left_on",
            "organization",
        },
    )
    if membership.kind == PartyMemberKind.IN_SERVICE and membership.registered_on is None:
        membership.registered_on = timezone.localdate()
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def party_membership_end(
    *, membership: PartyMembership, left_on: datetime.date | None = None
) -> PartyMembership:
    left_on = left_on or timezone.localdate()
    if membership.left_on is not None:
        raise ValidationError(_("This membership has already ended."))
    membership.left_on = left_on
    membership.save(update_fields=["left_on"])
    return membership


def _check_unit_community(community: GridNode) -> None:
    if community.level != NodeLevel.COMMUNITY:
        raise ValidationError({"community": _("A co-building agreement is signed with a community node.")})
    if community.archived_at is not None:
        raise ValidationError({"community": _("The community is archived.")})


@transaction.atomic
def unit_create(*, community: GridNode, **fields) -> CoBuildingUnit:
    _check_unit_community(community)
    unit = CoBuildingUnit(community=community, **fields)
    unit.full_clean()
    unit.save()
    return unit


_UNIT_FIELDS = {
    "name",
    "kind",
    "community",
    "address",
    "contact_name",
    "contact_phone",
    "agreement_signed_on",
    "agreement_ends_on",
    "committee_member",
    "offer_summary",
}


@transaction.atomic
def unit_update(*, unit: CoBuildingUnit, **changes) -> CoBuildingUnit:
    if "community" in changes:
        _check_unit_community(changes["community"])
    apply_changes(unit, changes, _UNIT_FIELDS)
    unit.full_clean()
    unit.save()
    return unit


@transaction.atomic
def unit_archive(*, unit: CoBuildingUnit) -> CoBuildingUnit:
    if unit.archived_at is None:
        unit.archived_at = timezone.now()
        unit.save(update_fields=["archived_at"])
    return unit


@transaction.atomic
def assignment_create(
    *,
    user: User,
    node: GridNode,
    role: str,
    is_primary: bool = False,
    started_on: datetime.date | None = None,
) -> Assignment:
    errors = {}
    if role not in ROLE_NODE_LEVELS:
        raise ValidationError({"role": _("Unknown role.")})
    if node.level not in ROLE_NODE_LEVELS[Role(role)]:
        errors["node"] = _("A %(role)s cannot be assigned to a %(level)s.") % {
            "role": Role(role).label,
            "level": NodeLevel(node.level).label,
        }
    if node.archived_at is not None:
        errors["node"] = _("The node is archived.")
    if is_primary and role not in AB_POST_ROLES:
        errors["is_primary"] = _("Only grid workers hold the A (primary) post.")
    if not user.is_active:
        errors["user"] = _("The account is disabled.")
    if errors:
        raise ValidationError(errors)
    # Serialize competing assignments to the same node so the checks below stay true at commit.
    GridNode.objects.select_for_update().filter(pk=node.pk).exists()
    current = Assignment.objects.filter(node=node, role=role, ended_on__isnull=True)
    if current.filter(user=user).exists():
        raise ValidationError({"user": _("This person already holds this role on this node.")})
    if is_primary and current.filter(is_primary=True).exists():
        raise ValidationError(
            {"is_primary": _("This node already has a primary worker; end that post first.")}
        )
    assignment = Assignment(
        user=user, node=node, role=role, is_primary=is_primary, started_on=started_on or timezone.localdate()
    )
    assignment.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError as error:
        raise ValidationError(_("This assignment clashes with a current one.")) from error
    forget_scope(user)
    return assignment


@transaction.atomic
def assignment_end(*, assignment: Assignment, ended_on: datetime.date | None = None) -> Assignment:
    if assignment.ended_on is not None:
        raise ValidationError(_("This assignment has already ended."))
    ended_on = ended_on or timezone.localdate()
    if ended_on < assignment.started_on:
        raise ValidationError({"ended_on": _("The end date is before the start date.")})
    assignment.ended_on = ended_on
    assignment.save(update_fields=["ended_on"])
    forget_scope(assignment.user)
    assignment_ended.send(sender=Assignment, assignment=assignment)
    return assignment


@transaction.atomic
def assignment_set_primary(*, assignment: Assignment) -> Assignment:
    """Make this worker the A post of the node, moving the current A post to B."""
    if assignment.role not in AB_POST_ROLES or assignment.ended_on is not None:
        raise ValidationError(_("Only a current grid worker can hold the A (primary) post."))
    GridNode.objects.select_for_update().filter(pk=assignment.node_id).exists()
    Assignment.objects.filter(
        node=assignment.node_id, role=assignment.role, ended_on__isnull=True, is_primary=True
    ).exclude(pk=assignment.pk).update(is_primary=False)
    Assignment.objects.filter(pk=assignment.pk).update(is_primary=True)
    assignment.is_primary = True
    return assignment


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str | None,
    home_node: GridNode | None,
    name: str = "",
    phone: str = "",
    is_staff: bool = True,
) -> User:
    user = User(
        username=username.strip(),
        name=name.strip(),
        phone=phone.strip(),
        home_node=home_node,
        is_staff=is_staff,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user

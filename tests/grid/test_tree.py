import pytest
from django.core.exceptions import ValidationError
from django.db import models

from grid import services
from grid.choices import NodeLevel, PartyLevel, Role
from grid.models import Assignment, GridNode, PartyOrganization
from tests.grid.factories import assign, make_node, make_tree, make_unit

pytestmark = pytest.mark.django_db


def test_child_may_skip_levels_downwards():
    street = make_node(level=NodeLevel.STREET)
    community = make_node(street, NodeLevel.COMMUNITY)
    building = make_node(community, NodeLevel.BUILDING)  # an open compound skips grid and compound
    unit = make_node(building, NodeLevel.UNIT)
    assert [n.pk for n in GridNode.objects.filter(path__startswith=street.path)] == [
        street.pk,
        community.pk,
        building.pk,
        unit.pk,
    ]
    assert GridNode.objects.get_parent(unit) == building and unit.parent == building


@pytest.mark.parametrize(
    ("parent_level", "child_level"),
    [
        (NodeLevel.GRID, NodeLevel.COMMUNITY),
        (NodeLevel.COMMUNITY, NodeLevel.COMMUNITY),
        (NodeLevel.UNIT, NodeLevel.BUILDING),
        (NodeLevel.BUILDING, NodeLevel.STREET),
    ],
)
def test_child_never_sits_at_or_above_its_parents_level(parent_level, child_level):
    parent = make_node(level=parent_level)
    before = GridNode.objects.count()
    with pytest.raises(ValidationError) as error:
        make_node(parent, child_level)
    assert "level" in error.value.message_dict
    assert GridNode.objects.count() == before


def test_node_codes_are_unique():
    street = make_node(level=NodeLevel.STREET, code="370105005")
    with pytest.raises(ValidationError) as error:
        make_node(street, NodeLevel.COMMUNITY, code="370105005")
    assert "code" in error.value.message_dict


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [200, 36]},
        {"type": "Polygon", "coordinates": [[[117, 36], [117.1, 36], [117.1, 36.1]]]},
        {"type": "Polygon", "coordinates": [[[117, 36], [117.1, 36], [117.1, 36.1], [117.2, 36.2]]]},
        {"type": "LineString", "coordinates": [[117, 36], [117.1, 36]]},
        {"coordinates": [117, 36]},
        "not geojson",
    ],
)
def test_invalid_geometry_is_refused(geometry):
    with pytest.raises(ValidationError) as error:
        make_node(level=NodeLevel.STREET, geometry=geometry)
    assert "geometry" in error.value.message_dict


def test_valid_polygon_geometry_is_kept():
    square = {
        "type": "Polygon",
        "coordinates": [[[117, 36], [117.1, 36], [117.1, 35.9], [117, 35.9], [117, 36]]],
    }
    node = make_node(level=NodeLevel.STREET, geometry=square)
    assert GridNode.objects.get(pk=node.pk).geometry == square


def test_move_keeps_the_subtree_and_refuses_level_violations():
    tree = make_tree()
    building = tree["c1g1b1"]
    moved = services.node_move(node=building, new_parent=tree["c2g2"])
    assert moved.parent == tree["c2g2"]
    unit = GridNode.objects.get(pk=tree["c1g1b1u1"].pk)
    assert unit.path.startswith(moved.path)
    with pytest.raises(ValidationError):
        services.node_move(node=tree["c1"], new_parent=tree["c2g1"])  # a community under a grid
    with pytest.raises(ValidationError):
        services.node_move(node=tree["c1"], new_parent=tree["c1g1"])  # under its own descendant
    assert GridNode.objects.find_problems() == ([], [], [], [], [])


def test_removing_an_unreferenced_leaf_deletes_it():
    tree = make_tree()
    unit = tree["c1g1b1u1"]
    assert services.node_remove(node=unit) == "deleted"
    assert not GridNode.objects.filter(pk=unit.pk).exists()
    assert GridNode.objects.get(pk=tree["c1g1b1"].pk).numchild == 0


def test_removing_a_node_with_history_archives_it_and_its_subtree():
    tree = make_tree()
    grid = tree["c1g1"]
    assign(grid)
    assert services.node_remove(node=grid) == "archived"
    archived = GridNode.objects.filter(path__startswith=grid.path)
    assert archived.count() == 5  # the grid, its 2 buildings and their 2 units; nothing deleted
    assert all(node.archived_at is not None for node in archived)
    assert GridNode.objects.get(pk=tree["c1g2"].pk).archived_at is None
    assert Assignment.objects.filter(node=grid).exists()


def test_removing_a_node_with_children_archives_instead_of_deleting():
    tree = make_tree()
    assert services.node_remove(node=tree["c2g1b1"]) == "archived"
    assert GridNode.objects.filter(pk=tree["c2g1b1u1"].pk, archived_at__isnull=False).exists()


def test_restore_requires_the_parent_to_be_active():
    tree = make_tree()
    services.node_archive(node=tree["c1"])
    with pytest.raises(ValidationError):
        services.node_restore(node=tree["c1g1"])
    assert services.node_restore(node=tree["c1"]) == 11
    assert not GridNode.objects.filter(archived_at__isnull=False).exists()


def test_no_child_can_be_added_under_an_archived_node():
    tree = make_tree()
    services.node_archive(node=tree["c1g1"])
    with pytest.raises(ValidationError):
        make_node(GridNode.objects.get(pk=tree["c1g1"].pk), NodeLevel.BUILDING)


def test_every_reference_to_a_node_protects_it_from_deletion():
    """Archive-not-delete holds for every model pointing at the tree, in every app."""
    for relation in GridNode._meta.related_objects:
        assert relation.on_delete is models.PROTECT, relation


def test_party_organizations_sit_at_their_level_of_the_grid_tree():
    tree = make_tree()
    street_committee = services.party_organization_create(
        parent=None, level=PartyLevel.STREET_COMMITTEE, name="街道大工委", node=tree["street"]
    )
    committee = services.party_organization_create(
        parent=street_committee, level=PartyLevel.COMMUNITY_COMMITTEE, name="社区大党委", node=tree["c1"]
    )
    branch = services.party_organization_create(
        parent=committee, level=PartyLevel.GRID_BRANCH, name="网格党支部", node=tree["c1g1"]
    )
    assert PartyOrganization.objects.get_parent(branch) == committee
    # a grid branch embedded at a community, a branch in another community, an upside-down parent
    with pytest.raises(ValidationError) as error:
        services.party_organization_create(
            parent=committee, level=PartyLevel.GRID_BRANCH, name="x", node=tree["c1"]
        )
    assert "node" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.party_organization_create(
            parent=committee, level=PartyLevel.GRID_BRANCH, name="x", node=tree["c2g1"]
        )
    assert "node" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.party_organization_create(
            parent=branch, level=PartyLevel.COMMUNITY_COMMITTEE, name="x", node=tree["c1"]
        )
    assert "level" in error.value.message_dict
    assert PartyOrganization.objects.count() == 3


def test_roles_fit_node_levels_and_each_grid_has_one_a_post():
    tree = make_tree()
    with pytest.raises(ValidationError) as error:
        assign(tree["c1g1"], Role.COMMUNITY_SECRETARY)
    assert "node" in error.value.message_dict
    a_post = assign(tree["c1g1"], Role.GRID_WORKER, is_primary=True)
    b_post = assign(tree["c1g1"], Role.GRID_WORKER)
    with pytest.raises(ValidationError) as error:
        assign(tree["c1g1"], Role.GRID_WORKER, is_primary=True)
    assert "is_primary" in error.value.message_dict
    with pytest.raises(ValidationError):
        assign(tree["c1g1"], Role.GRID_WORKER, user=a_post)  # same person, same role, same node
    b_assignment = Assignment.objects.get(user=b_post)
    services.assignment_set_primary(assignment=b_assignment)
    primaries = Assignment.objects.filter(node=tree["c1g1"], is_primary=True)
    assert list(primaries.values_list("user", flat=True)) == [b_post.pk]


def test_units_sign_with_communities_only():
    tree = make_tree()
    unit = make_unit(tree["c1"])
    assert unit.agreement_active
    with pytest.raises(ValidationError) as error:
        make_unit(tree["c1g1"], name="另一个")
    assert "community" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_unit(tree["c1"], name="坏电话", contact_phone="12345")
    assert "contact_phone" in error.value.message_dict


def test_demo_street_has_the_seed_shape(demo):
    counts = dict(
        GridNode.objects.order_by()
        .values_list("level")
        .annotate(n=models.Count("id"))
        .values_list("level", "n")
    )
    assert counts[NodeLevel.STREET] == 1
    assert counts[NodeLevel.COMMUNITY] == 5
    assert counts[NodeLevel.COMPOUND] == 42
    assert counts[NodeLevel.BUILDING] == 260
    beihai = demo.beihai
    assert GridNode.objects.filter(path__startswith=beihai.path, level=NodeLevel.BUILDING).count() == 30
    assert PartyOrganization.objects.filter(node__path__startswith=beihai.path).count() == 16
    assert GridNode.objects.find_problems() == ([], [], [], [], [])
    assert PartyOrganization.objects.find_problems() == ([], [], [], [], [])


def test_seeding_twice_adds_nothing(demo):
    before = (GridNode.objects.count(), PartyOrganization.objects.count(), Assignment.objects.count())
    from grid.demo import DemoBuilder

    report = DemoBuilder().build()
    assert report.created == {}
    assert (GridNode.objects.count(), PartyOrganization.objects.count(), Assignment.objects.count()) == before

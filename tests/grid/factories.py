import datetime

import factory

from grid import services
from grid.choices import NodeLevel, Role, UnitKind
from grid.models import GridNode, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Sequence(lambda n: f"用户{n}")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "pass-12345")

    @factory.post_generation
    def finish(obj, create, extracted, **kwargs):
        if create:
            obj.save()


_sequence = iter(range(1, 10**9))


def make_node(parent: GridNode | None = None, level: str = NodeLevel.STREET, **kwargs) -> GridNode:
    number = next(_sequence)
    return services.node_create(
        parent=parent,
        level=level,
        code=kwargs.pop("code", f"N{number:06d}"),
        name=kwargs.pop("name", f"节点{number}"),
        **kwargs,
    )


def make_tree():
    """street → two communities → two grids each → two buildings each → one unit each."""
    street = make_node(level=NodeLevel.STREET, name="测试街道")
    tree = {"street": street}
    for c in (1, 2):
        community = make_node(street, NodeLevel.COMMUNITY, name=f"社区{c}")
        tree[f"c{c}"] = community
        for g in (1, 2):
            grid = make_node(community, NodeLevel.GRID, name=f"社区{c}网格{g}")
            tree[f"c{c}g{g}"] = grid
            for b in (1, 2):
                building = make_node(grid, NodeLevel.BUILDING, name=f"社区{c}网格{g}楼{b}")
                tree[f"c{c}g{g}b{b}"] = building
                tree[f"c{c}g{g}b{b}u1"] = make_node(building, NodeLevel.UNIT, name="1单元")
    return tree


def assign(node: GridNode, role: str = Role.GRID_WORKER, user: User | None = None, **kwargs):
    user = user or UserFactory(home_node=node)
    services.assignment_create(user=user, node=node, role=role, **kwargs)
    return User.objects.get(pk=user.pk)


def make_unit(community: GridNode, name: str = "测试共建单位", **kwargs):
    values = {
        "name": name,
        "kind": UnitKind.ENTERPRISE,
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "agreement_signed_on": datetime.date(2024, 1, 1),
    }
    values.update(kwargs)
    return services.unit_create(community=community, **values)

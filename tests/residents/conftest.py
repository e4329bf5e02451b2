import datetime

import pytest

from grid.choices import NodeLevel
from grid.models import GridNode
from residents import services
from residents.choices import CareTagKind
from tests.residents.factories import make_household, make_resident


class Register:
    """Two households in grid A (北海新城第1网格), one in grid B, one in another community."""

    def __init__(self, demo):
        self.demo = demo
        unit_a = GridNode.objects.filter(path__startswith=demo.grid_a.path, level=NodeLevel.UNIT).order_by(
            "path"
        )[0]
        unit_b = GridNode.objects.filter(path__startswith=demo.grid_b.path, level=NodeLevel.UNIT).order_by(
            "path"
        )[0]
        unit_c = GridNode.objects.filter(
            path__startswith=demo.other_community.path, level=NodeLevel.UNIT
        ).order_by("path")[0]
        self.unit_a, self.unit_b, self.unit_c = unit_a, unit_b, unit_c
        self.home_a = make_household(unit_a, "101")
        self.elder = make_resident(
            self.home_a,
            "王秀兰",
            born=datetime.date(1940, 5, 6),
            male=False,
            phone="13912345678",
            health_notes="高血压，需定期量血压",
        )
        services.care_tag_add(resident=self.elder, kind=CareTagKind.LIVING_ALONE)
        services.care_tag_add(resident=self.elder, kind=CareTagKind.DISABLED, grade=2)
        self.home_a2 = make_household(unit_a, "102")
        self.young = make_resident(
            self.home_a2, "李明", born=datetime.date(1990, 3, 3), phone="0531-88776655"
        )
        self.home_b = make_household(unit_b, "201")
        self.neighbour_b = make_resident(self.home_b, "赵四", born=datetime.date(1960, 8, 8))
        services.care_tag_add(resident=self.neighbour_b, kind=CareTagKind.LOW_INCOME)
        self.home_c = make_household(unit_c, "301")
        self.far = make_resident(self.home_c, "孙五", born=datetime.date(1975, 2, 2))


@pytest.fixture
def register(demo):
    return Register(demo)


@pytest.fixture
def demo_register(demo):
    """The demo street with its demo residents: about 2,300 households and 8,800 residents."""
    from residents.demo import build

    build()
    return demo

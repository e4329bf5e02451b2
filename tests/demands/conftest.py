import pytest

from demands import services
from demands.choices import TicketSource
from demands.demo import ensure_categories
from demands.models import Ticket, TicketCategory
from grid.models import GridNode


class Loop:
    def __init__(self, demo):
        ensure_categories()
        self.demo = demo
        self.category = TicketCategory.objects.get(code="environment")
        self.building_a = GridNode.objects.filter(
            path__startswith=demo.grid_a.path, level="building"
        ).order_by("path")[0]
        self.building_b = GridNode.objects.filter(
            path__startswith=demo.grid_b.path, level="building"
        ).order_by("path")[0]
        self.worker_a = demo.user("bhxc_g1_a")
        self.worker_b = demo.user("bhxc_g1_b")
        self.chief = demo.user("bhxc_g1_chief")
        self.secretary = demo.user("bhxc_secretary")
        self.staff = demo.user("bhxc_staff")

    def ticket(self, node=None, **kwargs) -> Ticket:
        values = {
            "category": self.category,
            "node": node or self.building_a,
            "source": TicketSource.QR,
            "description": "楼道堆放杂物",
            "reporter_name": "张先生",
            "reporter_phone": "13800138000",
        }
        values.update(kwargs)
        return services.ticket_create(**values)


@pytest.fixture
def loop(demo):
    return Loop(demo)

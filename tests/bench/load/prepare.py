"""Accounts and work for the load run, in the load database (run by bench_load with its env):
200 grid workers spread over the demo's grids, each with tickets assigned to them, and 20 leaders.
Prints a JSON description of the accounts for the locust file."""

import json
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
django.setup()

from django.db import transaction  # noqa: E402

from demands import services as ticket_services  # noqa: E402
from demands.choices import TicketSource, TicketStatus  # noqa: E402
from demands.demo import ensure_categories  # noqa: E402
from demands.models import Ticket, TicketCategory  # noqa: E402
from grid import services as grid_services  # noqa: E402
from grid.choices import NodeLevel, Role  # noqa: E402
from grid.models import GridNode, User  # noqa: E402
from services.models import Visit  # noqa: E402

WORKERS = int(os.environ.get("LOAD_WORKERS", "200"))
LEADERS = int(os.environ.get("LOAD_LEADERS", "20"))
TICKETS_EACH = int(os.environ.get("LOAD_TICKETS_EACH", "8"))
PASSWORD = os.environ["LOAD_PASSWORD"]


@transaction.atomic
def main() -> dict:
    ensure_categories()
    category = TicketCategory.objects.filter(is_active=True).order_by("pk").first()
    grids = list(GridNode.objects.filter(level=NodeLevel.GRID, archived_at__isnull=True).order_by("path"))
    street = GridNode.objects.filter(level=NodeLevel.STREET).order_by("path").first()
    communities = list(GridNode.objects.filter(level=NodeLevel.COMMUNITY).order_by("path"))
    workers, leaders = [], []
    # Households visited by earlier runs are not due again for weeks: forget those visits, so each
    # run has households to visit.
    Visit.objects.filter(visitor__username__startswith="load_w").delete()
    for number in range(WORKERS):
        grid = grids[number % len(grids)]
        username = f"load_w{number:03d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = grid_services.user_create(username=username, password=PASSWORD, home_node=grid)
            grid_services.assignment_create(user=user, node=grid, role=Role.GRID_WORKER)
        buildings = list(
            GridNode.objects.filter(path__startswith=grid.path, level=NodeLevel.BUILDING).order_by("path")[:4]
        ) or [grid]
        waiting = Ticket.objects.filter(assignee=user, status=TicketStatus.ASSIGNED).count()
        for index in range(max(0, TICKETS_EACH - waiting)):
            ticket = ticket_services.ticket_create(
                category=category,
                node=buildings[index % len(buildings)],
                source=TicketSource.PATROL,
                description=f"压测工单 {username} #{index}",
                reporter_name="压测",
                reporter_phone="13800138000",
            )
            # Straight to this worker, as if the A post had dispatched it to them.
            Ticket.objects.filter(pk=ticket.pk).update(assignee=user, status=TicketStatus.ASSIGNED)
        workers.append(username)
    for number in range(LEADERS):
        username = f"load_l{number:02d}"
        node = street if number < 4 else communities[number % len(communities)]
        if not User.objects.filter(username=username).exists():
            user = grid_services.user_create(username=username, password=PASSWORD, home_node=node)
            role = Role.STREET_LEADER if node == street else Role.COMMUNITY_SECRETARY
            grid_services.assignment_create(user=user, node=node, role=role)
        leaders.append(username)
    return {"workers": workers, "leaders": leaders}


if __name__ == "__main__":
    print(json.dumps(main()))

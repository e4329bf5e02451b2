"""Demo ticket categories and a couple of months of tickets in 北海新城, through the real services."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from demands import services
from demands.choices import TicketSource
from demands.models import Ticket, TicketCategory, TicketEvent
from grid.choices import NodeLevel
from grid.demo import STREET_CODE
from grid.models import GridNode

CATEGORIES = [
    # code, name, group, accept within (h), resolve within (h)
    ("environment", "环境卫生", "城市管理", 4, 48),
    ("facilities", "设施维修", "城市管理", 8, 72),
    ("safety", "安全隐患", "平安建设", 1, 24),
    ("dispute", "矛盾纠纷调解", "平安建设", 4, 72),
    ("elderly", "养老助老", "民生服务", 4, 48),
    ("policy", "政策咨询", "民生服务", 8, 48),
    ("parking", "停车管理", "城市管理", 8, 72),
    ("property", "物业管理", "城市管理", 8, 120),
    ("snow", "除雪铲冰", "城市管理", 2, 24),
    ("other", "其他", "其他", 8, 120),
]

SAMPLES = {
    "environment": ["楼道堆放杂物影响通行", "垃圾桶满溢无人清运", "绿化带有建筑垃圾"],
    "facilities": ["单元门禁损坏", "楼道声控灯不亮", "小区路面塌陷"],
    "safety": ["电动车在楼道充电", "消防通道被占用", "外墙瓷砖松动有坠落风险"],
    "dispute": ["楼上漏水邻里协商未果", "宠物扰民"],
    "elderly": ["独居老人需要助餐送餐", "老人行动不便需要上门理发"],
    "policy": ["咨询医保报销政策", "咨询低保申请条件"],
    "parking": ["车辆乱停堵塞小区出口", "充电桩车位被燃油车占用"],
    "property": ["物业维修响应慢", "电梯故障频繁"],
    "snow": ["单元门口积雪结冰"],
    "other": ["建议增设健身器材"],
}


def ensure_categories() -> int:
    created = 0
    for order, (code, name, group, response, resolution) in enumerate(CATEGORIES):
        _category, made = TicketCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "group": group,
                "response_hours": response,
                "resolution_hours": resolution,
                "order": order,
            },
        )
        created += made
    return created


@transaction.atomic
def build(*, scale: int = 1, stdout=None) -> dict[str, int]:
    created = {"ticket categories": ensure_categories()}
    beihai = GridNode.objects.filter(code=f"{STREET_CODE}001").first()
    if beihai is None or Ticket.objects.filter(node__path__startswith=beihai.path).exists():
        return {k: v for k, v in created.items() if v}
    rnd = random.Random(4)  # noqa: S311 - demo data  # nosec B311
    places = list(
        GridNode.objects.filter(path__startswith=beihai.path, level=NodeLevel.BUILDING).order_by("path")
    )
    categories = {c.code: c for c in TicketCategory.objects.all()}
    now = timezone.now()
    tickets = 0
    for index in range(120):
        code = rnd.choice(list(SAMPLES))
        place = rnd.choice(places)
        ticket = services.ticket_create(
            category=categories[code],
            node=place,
            source=rnd.choice([TicketSource.QR, TicketSource.QR, TicketSource.PATROL, TicketSource.STAFF]),
            description=rnd.choice(SAMPLES[code]),
            location_text=rnd.choice(["1单元门口", "2单元楼道", "楼前空地", "地下车库入口", ""]),
            reporter_name="居民" if index % 3 else "",
        )
        tickets += 1
        fate = rnd.random()
        worker = ticket.assignee
        if worker is not None and fate > 0.15:
            ticket = services.ticket_accept(ticket=ticket, actor=worker)
            if fate > 0.3:
                ticket = services.ticket_resolve(ticket=ticket, actor=worker, note="已现场处理完毕")
                if fate > 0.45:
                    services.ticket_rate(ticket=ticket, rating=rnd.choice([5, 5, 5, 4, 4, 3, 2]), comment="")
        # Spread the history over the last two months.
        back = datetime.timedelta(days=rnd.randint(0, 60), hours=rnd.randint(0, 23))
        reported = now - back
        # Taken within minutes to hours, fixed within hours to days, closed after the rating
        # window: the steps' times follow the report, never later than now.
        accepted = reported + datetime.timedelta(minutes=rnd.randint(5, 6 * 60))
        resolved = accepted + datetime.timedelta(minutes=rnd.randint(60, 72 * 60))
        closed = resolved + datetime.timedelta(hours=rnd.randint(1, 20))
        steps = Ticket.objects.filter(pk=ticket.pk).values(
            "accepted_at", "resolved_at", "closed_at", "rated_at"
        )[0]
        moved = {
            "accepted_at": min(accepted, now),
            "resolved_at": min(resolved, now),
            "closed_at": min(closed, now),
            "rated_at": min(closed, now),
        }
        Ticket.objects.filter(pk=ticket.pk).update(
            created_at=reported,
            response_due=reported + datetime.timedelta(hours=ticket.category.response_hours),
            resolution_due=reported + datetime.timedelta(hours=ticket.category.resolution_hours),
            **{field: moved[field] for field, value in steps.items() if value is not None},
        )
        # Steps an hour or more apart, in order; the rating a day after the fix.
        for step, event in enumerate(TicketEvent.objects.filter(ticket=ticket).order_by("id")):
            hours = step + (20 if event.action in ("close", "reopen") else 0)
            TicketEvent.objects.filter(pk=event.pk).update(
                created_at=now - back + datetime.timedelta(hours=hours)
            )
    created["tickets"] = tickets
    # As if the periodic jobs had been running all along.
    created["tickets escalated"] = services.escalate_overdue()
    created["tickets auto-closed"] = services.auto_close_resolved()
    return {k: v for k, v in created.items() if v}

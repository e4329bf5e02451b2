"""Demo services for 北海新城: 67 co-building activities with 430 person-times (seed figures), the
weekly red-film night and the monthly 医养大集, patrols, the 孝善食堂 programmes, home visits on
colour cadence (some overdue), the time bank with rewards, and last month's published competition."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from grid.choices import NodeLevel, PartyMemberKind, Role
from grid.demo import STREET_CODE
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership
from residents.models import Household
from services import services
from services.assessment import assessment_compute, assessment_publish
from services.choices import OrganizerKind, ParticipantRole, Recurrence, RewardKind
from services.models import EventKind, EventSeries, Participation, Reward, ServiceEvent, Visit

KINDS = [
    ("co_building", "共建活动", 10, True),
    ("volunteer", "志愿服务", 10, False),
    ("lecture", "讲座课堂", 5, False),
    ("free_clinic", "义诊", 10, True),
    ("haircut", "义剪", 10, True),
    ("blood_pressure", "量血压", 8, False),
    ("meal_delivery", "送餐上门", 12, False),
    ("patrol", "网格巡查", 5, False),
    ("snow_clearing", "除雪铲冰", 15, False),
    ("red_film", "红色电影之夜", 3, False),
    ("medical_fair", "医养大集", 8, True),
]
ACTIVITIES = [
    "义诊进社区",
    "法律知识讲座",
    "孝善食堂志愿服务",
    "防诈骗宣传",
    "楼道清理",
    "智能手机课堂",
    "爱心义剪",
    "健康讲座",
    "消防演练",
    "读书分享会",
]


def ensure_kinds() -> dict[str, EventKind]:
    for code, name, points, co_building in KINDS:
        EventKind.objects.get_or_create(
            code=code, defaults={"name": name, "points_per_hour": points, "is_co_building": co_building}
        )
    return {kind.code: kind for kind in EventKind.objects.all()}


@transaction.atomic
def build(*, scale: int = 1, stdout=None) -> dict[str, int]:
    kinds = ensure_kinds()
    beihai = GridNode.objects.filter(code=f"{STREET_CODE}001").first()
    if beihai is None or ServiceEvent.objects.filter(node__path__startswith=beihai.path).exists():
        return {}
    rnd = random.Random(6)  # noqa: S311 - demo data  # nosec B311
    tz = timezone.get_current_timezone()
    now = timezone.now()
    units = list(CoBuildingUnit.objects.filter(community=beihai))
    members = list(
        PartyMembership.objects.filter(
            organization__node__path__startswith=beihai.path, kind=PartyMemberKind.IN_SERVICE
        )
    )
    # 67 co-building activities over the past year, 430 person-times in all.
    events = []
    for index in range(67):
        day = timezone.localdate() - datetime.timedelta(days=rnd.randint(3, 360))
        starts = datetime.datetime.combine(day, datetime.time(9 + rnd.randint(0, 6)), tzinfo=tz)
        events.append(
            services.event_create(
                node=beihai,
                kind=kinds["co_building"],
                title=ACTIVITIES[index % len(ACTIVITIES)],
                organizer_kind=OrganizerKind.UNIT if units else OrganizerKind.COMMUNITY,
                organizer_unit=units[index % len(units)] if units else None,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=2),
                place="北海新城社区党群服务中心",
                beneficiary_count=rnd.randint(20, 80),
            )
        )
    counts = [6] * 67
    for extra in range(430 - 6 * 67):
        counts[extra % 67] += 1
    participations = []
    for event, count in zip(events, counts, strict=True):
        for member in rnd.sample(members, min(count, len(members))):
            participations.append(
                Participation(
                    event=event,
                    role=ParticipantRole.IN_SERVICE_MEMBER,
                    member=member,
                    name=member.name,
                    hours=2,
                    checked_in_at=event.starts_at,
                )
            )
    Participation.objects.bulk_create(participations)
    for event in events:
        services.award_points(event=event, actor=None)

    # Recurring events: weekly red-film night (Wednesdays), 医养大集 on the 25th.
    start = timezone.localdate() - datetime.timedelta(days=90)
    film = EventSeries.objects.create(
        node=beihai,
        kind=kinds["red_film"],
        title="红色电影之夜",
        recurrence=Recurrence.WEEKLY,
        weekday=2,
        start_time=datetime.time(19),
        duration_minutes=120,
        place="社区广场",
        starts_on=start,
    )
    fair = EventSeries.objects.create(
        node=beihai,
        kind=kinds["medical_fair"],
        title="医养大集",
        recurrence=Recurrence.MONTHLY,
        day_of_month=25,
        start_time=datetime.time(8, 30),
        duration_minutes=180,
        place="社区广场",
        starts_on=start,
    )
    until = timezone.localdate() + datetime.timedelta(days=31)
    generated = services.series_generate(series=film, until=until) + services.series_generate(
        series=fair, until=until
    )

    # Patrols by grid workers last month and this month.
    grids = list(GridNode.objects.filter(parent=beihai, level=NodeLevel.GRID))
    patrols = 0
    for grid in grids:
        workers = [
            a.user
            for a in Assignment.objects.current()
            .filter(node=grid, role=Role.GRID_WORKER)
            .select_related("user")
        ]
        for _ in range(8):
            day = timezone.localdate() - datetime.timedelta(days=rnd.randint(1, 55))
            starts = datetime.datetime.combine(day, datetime.time(15), tzinfo=tz)
            patrol = services.event_create(
                node=grid,
                kind=kinds["patrol"],
                title=f"{grid.name}日常巡查",
                organizer_kind=OrganizerKind.COMMUNITY,
                starts_at=starts,
                ends_at=starts + datetime.timedelta(hours=rnd.choice([1, 2, 3])),
            )
            for worker in workers:
                services.sign_in(event=patrol, role=ParticipantRole.GRID_WORKER, user=worker)
            patrols += 1

    # 孝善食堂 and other programmes (精准服务).
    canteen = services.programme_create(
        node=beihai,
        name="孝善食堂助餐",
        benefit="70岁以上老人就餐享受85折，每月助餐补贴100元",
        rule={"age_min": 70},
        discount_percent=15,
        monthly_subsidy=100,
    )
    services.programme_create(
        node=beihai,
        name="高龄独居老人送餐上门",
        benefit="80岁以上独居老人送餐上门",
        rule={"all": [{"age_min": 80}, {"tag": "living_alone"}]},
    )
    services.programme_create(
        node=beihai, name="老年人免费义剪义诊", benefit="60岁以上老人免费理发、义诊", rule={"age_min": 60}
    )
    services.programme_create(
        node=beihai,
        name="长效针剂免费注射",
        benefit="严重精神障碍患者免费长效针剂注射与康复服务",
        rule={"tag": "severe_mental_disorder"},
    )
    from services.eligibility import eligible_residents

    deliveries = 0
    for resident in eligible_residents(canteen)[:60]:
        services.delivery_record(programme=canteen, resident=resident, kind="meal", amount=12)
        deliveries += 1

    # Home visits on cadence: most households visited in time, some overdue.
    cadence = services.cadence_days()
    visits = []
    for household in Household.objects.filter(node__path__startswith=beihai.path).select_related("node"):
        grid = next((g for g in grids if household.node.path.startswith(g.path)), None)
        worker = (
            Assignment.objects.current().filter(node=grid, role=Role.GRID_WORKER, is_primary=True).first()
        )
        if worker is None:
            continue
        days = cadence.get(household.colour or "blue", 90)
        ago = rnd.randint(0, int(days * 1.3))
        visits.append(
            Visit(
                household=household,
                visitor=worker.user,
                visited_at=now - datetime.timedelta(days=ago),
                findings="家中情况正常，已了解近期需求。",
                colour_before=household.colour,
            )
        )
    Visit.objects.bulk_create(visits, batch_size=2000)

    # Time bank rewards and a few redemptions.
    rewards = [
        Reward.objects.create(
            community=beihai, name=name, kind=kind, cost=cost, stock=stock, provider=provider
        )
        for name, kind, cost, stock, provider in [
            ("大米一袋", RewardKind.GOODS, 200, 30, "银座超市无影山店"),
            ("免费理发一次", RewardKind.SERVICE, 50, None, "无影山理发店"),
            ("超市购物九折券", RewardKind.DISCOUNT, 100, 50, "银座超市无影山店"),
        ]
    ]
    from services.models import PointsAccount

    redeemed = 0
    for account in PointsAccount.objects.filter(community=beihai, kind="person")[:12]:
        if services.balance(account) >= rewards[1].cost:
            services.points_redeem(account=account, reward=rewards[1], actor=None)
            redeemed += 1

    # Last month's competition, computed and published.
    street = GridNode.objects.get(code=STREET_CODE)
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    assessment_publish(round_=assessment_compute(street=street, month=last_month))
    return {
        "service events": len(events) + generated + patrols,
        "participations": len(participations),
        "programmes": 4,
        "deliveries": deliveries,
        "home visits": len(visits),
        "redemptions": redeemed,
    }

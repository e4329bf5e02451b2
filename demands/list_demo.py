"""Demo lists for 北海新城 at the seed article's scale: 114 demands collected, 92 fulfilled,
micro-wishes on the wish wall, co-building units and in-service party members registered (双报到),
resources, projects with milestones, and a parking deliberation that became a project."""

import datetime
import random

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from demands import deliberation, lists
from demands.choices import DemandKind, DemandSource, ParticipantKind, ResourceKind, TopicOrigin, Urgency
from demands.models import Claim, Demand, Project, Resource
from grid.choices import NodeLevel, PartyMemberKind
from grid.demo import STREET_CODE
from grid.models import CoBuildingUnit, GridNode, PartyMembership, User

DEMANDS = [
    ("3号楼楼道加装扶手", DemandKind.FACILITIES),
    ("独居老人助餐送餐", DemandKind.MEALS),
    ("免费法律咨询", DemandKind.LEGAL),
    ("借用轮椅一台", DemandKind.GOODS),
    ("慢病老人上门量血压", DemandKind.MEDICAL),
    ("四点半课堂辅导", DemandKind.EDUCATION),
    ("智能手机使用培训", DemandKind.EDUCATION),
    ("小区增设休闲座椅", DemandKind.FACILITIES),
    ("老人上门理发", DemandKind.CARE),
    ("失业人员技能培训", DemandKind.EMPLOYMENT),
    ("社区文艺汇演场地", DemandKind.CULTURE),
    ("楼道灯更换", DemandKind.FACILITIES),
]
WISHES = [
    "想要一台收音机",
    "希望有人陪我聊聊天",
    "想学用微信视频",
    "需要一副老花镜",
    "孙子想要一套课外书",
    "想要一个助行器",
    "希望有人帮忙修水龙头",
    "想去看一次红色电影",
    "需要一个血压计",
    "想要一床厚棉被",
]


@transaction.atomic
def build(*, scale: int = 1, stdout=None) -> dict[str, int]:
    beihai = GridNode.objects.filter(code=f"{STREET_CODE}001").first()
    if beihai is None or Demand.objects.filter(node__path__startswith=beihai.path).exists():
        return {}
    rnd = random.Random(8)  # noqa: S311 - demo data  # nosec B311
    staff = User.objects.filter(username="bhxc_secretary").first()
    buildings = list(
        GridNode.objects.filter(path__startswith=beihai.path, level=NodeLevel.BUILDING).order_by("path")
    )
    units = list(CoBuildingUnit.objects.filter(community=beihai))
    members = list(
        PartyMembership.objects.filter(
            organization__node__path__startswith=beihai.path, kind=PartyMemberKind.IN_SERVICE
        )
    )
    # A party member with an account, to try the phone's micro-wish page.
    if members and not User.objects.filter(username="bhxc_member").exists():
        account = User.objects.create(
            username="bhxc_member",
            name=f"{members[0].name}（在职党员）",
            is_staff=False,
            home_node=beihai,
            password=make_password(settings.DEMO_PASSWORD),
        )
        PartyMembership.objects.filter(pk=members[0].pk).update(user=account)
        members[0].user_id = account.pk
    for unit in units:
        lists.registration_decide(
            registration=lists.registration_request(community=beihai, unit=unit), accept=True, actor=staff
        )
    for member in members:
        lists.registration_decide(
            registration=lists.registration_request(community=beihai, member=member), accept=True, actor=staff
        )

    now = timezone.now()
    demands = []
    for index in range(114):
        if index % 4 == 0:  # about 29 micro-wishes, in every state from open to fulfilled
            title, kind, wish = (
                WISHES[index % len(WISHES)],
                rnd.choice([DemandKind.GOODS, DemandKind.CARE]),
                True,
            )
        else:
            (title, kind), wish = DEMANDS[index % len(DEMANDS)], False
        demand = lists.demand_create(
            node=rnd.choice(buildings),
            title=title,
            kind=kind,
            is_micro_wish=wish,
            created_by=staff,
            source=rnd.choice([DemandSource.RESIDENT, DemandSource.VISIT, DemandSource.STAFF]),
            urgency=rnd.choice([Urgency.NORMAL, Urgency.NORMAL, Urgency.HIGH, Urgency.URGENT]),
            allows_multiple_claims=kind in (DemandKind.EDUCATION, DemandKind.CULTURE),
            beneficiary_group="" if wish else "楼栋居民",
        )
        Demand.objects.filter(pk=demand.pk).update(
            created_at=now - datetime.timedelta(days=rnd.randint(20, 360))
        )
        demands.append(demand)
    claims = 0
    for index, demand in enumerate(demands):
        if index >= 104:
            continue  # ten demands stay open
        claimant = (
            {"unit": rnd.choice(units)}
            if units and (not demand.is_micro_wish or not members)
            else {"member": rnd.choice(members)}
        )
        claim = lists.claim_create(demand=demand, actor=staff, **claimant)
        claims += 1
        if index < 92:
            lists.claim_fulfil(claim=claim, rating=rnd.choice([5, 5, 5, 4, 4, 3]), feedback="感谢帮助")
            back = datetime.timedelta(days=rnd.randint(1, 19))
            Claim.objects.filter(pk=claim.pk).update(fulfilled_at=now - back)
            Demand.objects.filter(pk=demand.pk).update(fulfilled_at=now - back)
        elif index < 98:
            lists.claim_start(claim=claim)

    resources = 0
    offers = [
        (ResourceKind.VENUE, "活动室", 40, "场"),
        (ResourceKind.VOLUNTEERS, "志愿服务", 200, "人次"),
        (ResourceKind.FUNDS, "公益资金", 20000, "元"),
        (ResourceKind.EXPERTISE, "专业咨询", 24, "次"),
        (ResourceKind.GOODS, "慰问物资", 100, "份"),
        (ResourceKind.SERVICE, "上门服务", 60, "次"),
    ]
    for unit in units:
        for kind, title, quantity, measure in rnd.sample(offers, 2):
            lists.resource_offer(
                community=beihai,
                unit=unit,
                kind=kind,
                title=f"{unit.name}{title}",
                quantity=quantity,
                measure=measure,
            )
            resources += 1
    for member in members[:10]:
        lists.resource_offer(
            community=beihai,
            member=member,
            kind=ResourceKind.VOLUNTEERS,
            title=f"{member.name}志愿服务",
            quantity=12,
            measure="小时",
        )
        resources += 1
    bookable = list(Resource.objects.filter(community=beihai)[:8])
    for resource in bookable:
        lists.resource_book(
            resource=resource, quantity=max(1, resource.quantity // 10), purpose="社区活动", actor=staff
        )

    canteen_unit = next((u for u in units if u.name == "三利快餐"), None)
    projects = [
        (
            "孝善食堂",
            "三利快餐",
            350000,
            ["选址装修", "食品安全备案", "开业试运营", "助餐补贴上线"],
            [100, 100, 100, 60],
        ),
        ("除雪铲冰行动", "北海新城社区党委", 8000, ["物资准备", "志愿者编组", "雪后清扫"], [100, 100, 30]),
        ("楼道扶手安装", "区民政局", 60000, ["需求摸排", "施工", "验收"], [100, 40, 0]),
        ("医保服务站", "海王药业", 120000, ["场地", "系统对接", "开放服务"], [100, 100, 100]),
    ]
    for title, owner, budget, steps, progress in projects:
        project = lists.project_create(
            node=beihai,
            title=title,
            owner_name=owner,
            budget=budget,
            owner_unit=canteen_unit if title == "孝善食堂" else None,
            starts_on=timezone.localdate() - datetime.timedelta(days=200),
        )
        for step, done in zip(steps, progress, strict=True):
            milestone = lists.milestone_add(project=project, title=step)
            if done:
                lists.milestone_progress(milestone=milestone, progress=done)
        lists.project_move(project=project, action="start")
        if all(p == 100 for p in progress):
            lists.project_move(project=project, action="complete")
    if units:
        lists.claim_create(project=Project.objects.get(title="除雪铲冰行动"), unit=units[-1], actor=staff)

    topic = deliberation.topic_create(
        node=beihai,
        title="北海新城小区停车难",
        origin=TopicOrigin.RESIDENT,
        raised_by=staff,
        description="晚间车辆乱停，消防通道被占，居民反映强烈。",
    )
    people = (
        [
            deliberation.participant_add(topic=topic, kind=ParticipantKind.RESIDENT_REP, name=f"居民代表{i}")
            for i in range(1, 8)
        ]
        + [
            deliberation.participant_add(
                topic=topic, kind=ParticipantKind.PARTY_MEMBER, name=m.name, member=m
            )
            for m in members[:3]
        ]
        + [deliberation.participant_add(topic=topic, kind=ParticipantKind.DEPUTY, name="区人大代表")]
    )
    deliberation.meeting_record(
        topic=topic,
        held_at=now - datetime.timedelta(days=40),
        place="社区议事厅",
        minutes="居民代表、党员和人大代表讨论了三种方案。",
        attendees=people,
    )
    options = [
        deliberation.option_add(topic=topic, title=title)
        for title in ("划定夜间临时停车位并错峰使用", "引入智能道闸收费管理", "维持现状")
    ]
    deliberation.voting_open(topic=topic)
    for index, person in enumerate(people):
        deliberation.ballot_cast(topic=topic, participant=person, option=options[0 if index % 4 else 1])
    deliberation.topic_decide(topic=topic, actor=staff)
    deliberation.topic_implement(
        topic=topic, project_title="停车秩序整治", owner_name="北海新城社区居委会", budget=15000
    )
    done = deliberation.topic_create(
        node=beihai,
        title="楼道堆物清理公约",
        origin=TopicOrigin.GRID_WORKER,
        raised_by=staff,
        description="楼道堆物存在消防隐患。",
    )
    reps = [
        deliberation.participant_add(topic=done, kind=ParticipantKind.RESIDENT_REP, name=f"楼长{i}")
        for i in range(1, 4)
    ]
    deliberation.meeting_record(
        topic=done, held_at=now - datetime.timedelta(days=90), minutes="制定楼道公约。", attendees=reps
    )
    yes, _no = (deliberation.option_add(topic=done, title=t) for t in ("签订楼道公约", "暂缓"))
    deliberation.voting_open(topic=done)
    for person in reps:
        deliberation.ballot_cast(topic=done, participant=person, option=yes)
    deliberation.topic_decide(topic=done, actor=staff)
    deliberation.topic_finish(topic=done, outcome="30栋楼签订公约，楼道堆物清零。", praised=True)
    return {
        "demands": len(demands),
        "claims": claims + 1,
        "resources": resources,
        "projects": len(projects) + 1,
        "topics": 2,
    }

"""The demo street, modelled on 无影山街道 and its 北海新城社区 as the source articles describe them.

Nodes are bulk-inserted level by level with their materialized paths computed here, so a
street scaled 100x (about 110,000 nodes) builds in well under a minute. Running it again adds
nothing that exists already (communities are matched by code).
"""

import datetime
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import F

from grid.choices import Gender, NodeLevel, PartyLevel, PartyMemberKind, Role, UnitKind
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership, PartyOrganization, User

STREET_CODE = "370105005"
STREET_NAME = "无影山街道"
# (name, grids, compounds, buildings): the first is 北海新城, 30 micro-grids by building in one
# open compound; the five together give 42 compounds and 260 buildings, as in the seed figures.
COMMUNITIES = [
    ("北海新城社区", 3, 0, 30),
    ("无影山东路社区", 2, 10, 56),
    ("明星社区", 3, 11, 60),
    ("宿家庄社区", 2, 10, 56),
    ("和谐广场社区", 2, 11, 58),
]
ORIGIN = (116.975, 36.690)  # longitude, latitude of the street's north-west corner
COMMUNITY_SPAN = 0.012

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海燕鹏辉凤莲云"
    "立新春梅林宇浩淑珍晨欣佳怡子涵雨轩思博"
)

UNITS = [
    ("天桥区民政局", UnitKind.GOVERNMENT, 0, "政策咨询、养老服务指导"),
    ("三利快餐", UnitKind.BUSINESS, 0, "承办孝善食堂，老年助餐"),
    ("海王药业", UnitKind.ENTERPRISE, 0, "医保服务站、健康义诊"),
    ("天桥区人民法院", UnitKind.GOVERNMENT, 0, "法治讲座、矛盾纠纷调解"),
    ("无影山社区卫生服务中心", UnitKind.HOSPITAL, 0, "量血压、家庭医生签约"),
    ("北园律师事务所", UnitKind.SOCIAL_ORGANIZATION, 0, "免费法律咨询"),
    ("天桥区税务局", UnitKind.GOVERNMENT, 1, "志愿服务、政策宣讲"),
    ("无影山小学", UnitKind.SCHOOL, 1, "四点半课堂场地"),
    ("中国银行济南天桥支行", UnitKind.ENTERPRISE, 1, "防诈骗宣传、适老金融服务"),
    ("国网济南供电公司天桥供电中心", UnitKind.ENTERPRISE, 1, "用电安全检查"),
    ("天桥区消防救援大队", UnitKind.GOVERNMENT, 2, "消防演练、隐患排查"),
    ("无影山派出所", UnitKind.GOVERNMENT, 2, "治安巡逻、反诈宣传"),
    ("天桥区司法局", UnitKind.GOVERNMENT, 2, "人民调解"),
    ("明星幼儿园", UnitKind.SCHOOL, 2, "亲子活动场地"),
    ("山东建筑大学青年志愿者协会", UnitKind.SOCIAL_ORGANIZATION, 3, "志愿者、适老化改造咨询"),
    ("乐善社会工作服务中心", UnitKind.SOCIAL_ORGANIZATION, 3, "独居老人探访"),
    ("鲁能物业", UnitKind.ENTERPRISE, 3, "设施维修、除雪铲冰"),
    ("顺丰速运天桥营业部", UnitKind.ENTERPRISE, 3, "爱心送餐"),
    ("中国联通天桥分公司", UnitKind.ENTERPRISE, 4, "智能手机教学"),
    ("天桥区城市管理局", UnitKind.GOVERNMENT, 4, "环境整治"),
    ("天桥区卫生健康局", UnitKind.GOVERNMENT, 4, "健康讲座、义诊"),
    ("银座超市无影山店", UnitKind.BUSINESS, 4, "积分兑换物品"),
    ("无影山理发店", UnitKind.BUSINESS, 4, "老年人免费理发"),
]


# Other apps add their demo data on top of the street (residents, tickets, ...), in registration
# order; each builder takes the scale and returns {what: count created}.
EXTRA_BUILDERS: list = []


def register_builder(builder) -> None:
    if builder not in EXTRA_BUILDERS:
        EXTRA_BUILDERS.append(builder)


def _square(lng: float, lat: float, width: float, height: float) -> dict:
    ring = [[lng, lat], [lng + width, lat], [lng + width, lat - height], [lng, lat - height], [lng, lat]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def _point(lng: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]}


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, what: str, count: int) -> None:
        if count:
            self.created[what] = self.created.get(what, 0) + count


class _PathBook:
    """Hands out child paths for parents, continuing after any children they already have."""

    def __init__(self):
        self.next_step: dict[str, int] = {}

    def fresh(self, nodes: list[GridNode]) -> None:
        """Nodes just inserted have no children yet: no need to look."""
        for node in nodes:
            self.next_step[node.path] = 1

    def child_path(self, parent: GridNode) -> str:
        if parent.path not in self.next_step:
            last = (
                GridNode.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)
                .order_by("-path")
                .first()
            )
            self.next_step[parent.path] = GridNode._str2int(last.path[-GridNode.steplen :]) + 1 if last else 1
        step = self.next_step[parent.path]
        self.next_step[parent.path] = step + 1
        return GridNode._get_path(parent.path, parent.depth + 1, step)


class DemoBuilder:
    def __init__(self, scale: int = 1, seed: int = 20261121):
        self.scale = max(1, scale)
        self.random = random.Random(seed)  # nosec B311
        self.report = SeedReport()
        self.paths = _PathBook()
        self.password_hash = make_password(settings.DEMO_PASSWORD)

    def person_name(self) -> str:
        given = "".join(self.random.choice(GIVEN) for _ in range(self.random.choice((1, 2, 2))))
        return self.random.choice(SURNAMES) + given

    def mobile(self) -> str:
        return "1" + self.random.choice("3589") + "".join(self.random.choice("0123456789") for _ in range(9))

    # Tree -----------------------------------------------------------------------------------

    def _bulk(self, parents_children: list[tuple[GridNode, list[dict]]]) -> list[GridNode]:
        """Insert the children of several parents in one statement; returns them with ids."""
        objects, grown = [], []
        for parent, children in parents_children:
            for values in children:
                objects.append(
                    GridNode(
                        parent_id=parent.pk,
                        path=self.paths.child_path(parent),
                        depth=parent.depth + 1,
                        **values,
                    )
                )
            if children:
                parent.numchild += len(children)
                grown.append(parent)
        created = GridNode.objects.bulk_create(objects, batch_size=2000)
        if created and created[0].pk is None:  # backends that return no ids
            created = list(GridNode.objects.filter(path__in=[o.path for o in objects]).order_by("path"))
        GridNode.objects.bulk_update(grown, ["numchild"], batch_size=1000)
        self.paths.fresh(created)
        self.report.add("nodes", len(created))
        return created

    def street(self) -> GridNode:
        street = GridNode.objects.filter(code=STREET_CODE).first()
        if street is None:
            street = GridNode.objects.add_root(
                instance=GridNode(
                    code=STREET_CODE,
                    name=STREET_NAME,
                    level=NodeLevel.STREET,
                    geometry=_square(*ORIGIN, COMMUNITY_SPAN * 5, COMMUNITY_SPAN * 2),
                )
            )
            self.report.add("nodes", 1)
        street.numchild = GridNode.objects.values_list("numchild", flat=True).get(pk=street.pk)
        return street

    def community_specs(self) -> list[tuple[str, str, int, int, int, int]]:
        specs = []
        for index in range(len(COMMUNITIES) * self.scale):
            name, grids, compounds, buildings = COMMUNITIES[index % len(COMMUNITIES)]
            if index >= len(COMMUNITIES):
                name = f"第{index + 1}社区"
            specs.append((f"{STREET_CODE}{index + 1:03d}", name, grids, compounds, buildings, index))
        return specs

    def tree(self, street: GridNode) -> list[GridNode]:
        existing = set(GridNode.objects.filter(level=NodeLevel.COMMUNITY).values_list("code", flat=True))
        specs = [spec for spec in self.community_specs() if spec[0] not in existing]
        if not specs:
            return []
        per_row = 5 if self.scale == 1 else 25
        communities = self._bulk(
            [
                (
                    street,
                    [
                        {
                            "code": code,
                            "name": name,
                            "level": NodeLevel.COMMUNITY,
                            "geometry": _square(
                                ORIGIN[0] + (index % per_row) * COMMUNITY_SPAN,
                                ORIGIN[1] - (index // per_row) * COMMUNITY_SPAN,
                                COMMUNITY_SPAN * 0.96,
                                COMMUNITY_SPAN * 0.96,
                            ),
                        }
                        for code, name, _g, _c, _b, index in specs
                    ],
                )
            ]
        )
        shape = {community.code: spec for community, spec in zip(communities, specs, strict=True)}

        # Grids.
        grid_rows = []
        for community in communities:
            _code, cname, grids, _compounds, _buildings, index = shape[community.code]
            lng0 = ORIGIN[0] + (index % per_row) * COMMUNITY_SPAN
            lat0 = ORIGIN[1] - (index // per_row) * COMMUNITY_SPAN
            width = COMMUNITY_SPAN * 0.96 / grids
            grid_rows.append(
                (
                    community,
                    [
                        {
                            "code": f"{community.code}-G{number:02d}",
                            "name": f"{cname.removesuffix('社区')}第{number}网格",
                            "level": NodeLevel.GRID,
                            "geometry": _square(
                                lng0 + (number - 1) * width, lat0, width * 0.95, COMMUNITY_SPAN * 0.9
                            ),
                        }
                        for number in range(1, grids + 1)
                    ],
                )
            )
        grids = self._bulk(grid_rows)
        grids_of: dict[int, list[GridNode]] = {}
        for grid in grids:
            grids_of.setdefault(grid.parent_id, []).append(grid)

        # Compounds (where the community has them) and buildings.
        compound_rows, building_parents = [], []
        for community in communities:
            _code, cname, _grids, compounds, buildings, _index = shape[community.code]
            community_grids = grids_of[community.pk]
            if compounds == 0:
                # 北海新城: one open compound split into micro-grids by building, directly under the grids.
                for number in range(1, buildings + 1):
                    building_parents.append(
                        (community_grids[(number - 1) * len(community_grids) // buildings], number)
                    )
                continue
            per_grid = [[] for _ in community_grids]
            for number in range(1, compounds + 1):
                per_grid[(number - 1) * len(community_grids) // compounds].append(number)
            for grid, numbers in zip(community_grids, per_grid, strict=True):
                compound_rows.append(
                    (
                        grid,
                        [
                            {
                                "code": f"{community.code}-C{number:02d}",
                                "name": f"{cname.removesuffix('社区')}{number}号小区",
                                "level": NodeLevel.COMPOUND,
                                "geometry": _point(
                                    self._centre(grid)[0] + self.random.uniform(-0.002, 0.002),
                                    self._centre(grid)[1] + self.random.uniform(-0.003, 0.003),
                                ),
                            }
                            for number in numbers
                        ],
                    )
                )
        compounds = self._bulk(compound_rows)
        compounds_of: dict[int, list[GridNode]] = {}
        for compound in compounds:
            compounds_of.setdefault(compound.parent_id, []).append(compound)
        grid_community = {grid.pk: grid.parent_id for grid in grids}
        community_by_id = {community.pk: community for community in communities}
        for community in communities:
            _code, _cname, _grids, compound_count, buildings, _index = shape[community.code]
            if compound_count == 0:
                continue
            community_compounds = [c for g in grids_of[community.pk] for c in compounds_of.get(g.pk, [])]
            for number in range(1, buildings + 1):
                building_parents.append(
                    (community_compounds[(number - 1) * len(community_compounds) // buildings], number)
                )

        building_rows: dict[int, tuple[GridNode, list[dict]]] = {}
        for parent, number in building_parents:
            community_id = grid_community.get(parent.pk) or grid_community[parent.parent_id]
            community = community_by_id[community_id]
            centre = self._centre(parent)
            building_rows.setdefault(parent.pk, (parent, []))[1].append(
                {
                    "code": f"{community.code}-B{number:03d}",
                    "name": f"{number}号楼",
                    "level": NodeLevel.BUILDING,
                    "geometry": _point(
                        centre[0] + self.random.uniform(-0.001, 0.001),
                        centre[1] + self.random.uniform(-0.001, 0.001),
                    ),
                }
            )
        buildings = self._bulk(list(building_rows.values()))

        unit_rows = []
        for building in buildings:
            count = self.random.choice((2, 3, 3, 4))
            unit_rows.append(
                (
                    building,
                    [
                        {
                            "code": f"{building.code}-U{number}",
                            "name": f"{number}单元",
                            "level": NodeLevel.UNIT,
                        }
                        for number in range(1, count + 1)
                    ],
                )
            )
        self._bulk(unit_rows)
        return communities

    @staticmethod
    def _centre(node: GridNode) -> tuple[float, float]:
        geometry = node.geometry or {}
        if geometry.get("type") == "Point":
            return tuple(geometry["coordinates"])
        ring = geometry["coordinates"][0]
        return (sum(p[0] for p in ring[:-1]) / 4, sum(p[1] for p in ring[:-1]) / 4)

    # Party organizations ---------------------------------------------------------------------

    def party(self, street: GridNode, communities: list[GridNode]) -> None:
        from grid import services

        committee = PartyOrganization.objects.filter(node=street, level=PartyLevel.STREET_COMMITTEE).first()
        if committee is None:
            committee = services.party_organization_create(
                parent=None,
                level=PartyLevel.STREET_COMMITTEE,
                name="无影山街道大工委",
                node=street,
                secretary_name=self.person_name(),
                established_on=datetime.date(2019, 7, 1),
            )
            self.report.add("party organizations", 1)
        orgs: list[PartyOrganization] = []
        committee_base = PartyOrganization.objects.get_last_child(committee)
        step = PartyOrganization._str2int(committee_base.path[-4:]) + 1 if committee_base else 1
        grids = list(GridNode.objects.filter(parent__in=communities, level=NodeLevel.GRID).order_by("path"))
        grids_of: dict[int, list[GridNode]] = {}
        for grid in grids:
            grids_of.setdefault(grid.parent_id, []).append(grid)
        pending_children: list[tuple[PartyOrganization, list[PartyOrganization]]] = []
        for community in communities:
            community_org = PartyOrganization(
                parent=committee,
                level=PartyLevel.COMMUNITY_COMMITTEE,
                name=f"{community.name}大党委",
                node=community,
                secretary_name=self.person_name(),
                established_on=datetime.date(2020, 7, 1),
                path=PartyOrganization._get_path(committee.path, committee.depth + 1, step),
                depth=committee.depth + 1,
            )
            step += 1
            orgs.append(community_org)
            pending_children.append(
                (
                    community_org,
                    [
                        PartyOrganization(
                            level=PartyLevel.GRID_BRANCH,
                            name=f"{grid.name}党支部",
                            node=grid,
                            secretary_name=self.person_name(),
                        )
                        for grid in grids_of.get(community.pk, [])
                    ],
                )
            )
        PartyOrganization.objects.bulk_create(orgs, batch_size=2000)
        if orgs and orgs[0].pk is None:
            orgs = list(PartyOrganization.objects.filter(path__in=[o.path for o in orgs]).order_by("path"))
            pending_children = [
                (org, children) for org, (_old, children) in zip(orgs, pending_children, strict=True)
            ]
        PartyOrganization.objects.filter(pk=committee.pk).update(numchild=F("numchild") + len(orgs))
        children = []
        for org, branches in pending_children:
            org.numchild = len(branches)
            for number, branch in enumerate(branches, start=1):
                branch.parent = org
                branch.path = PartyOrganization._get_path(org.path, org.depth + 1, number)
                branch.depth = org.depth + 1
                children.append(branch)
        PartyOrganization.objects.bulk_update(
            [org for org, _b in pending_children], ["numchild"], batch_size=2000
        )
        PartyOrganization.objects.bulk_create(children, batch_size=2000)
        self.report.add("party organizations", len(orgs) + len(children))

    def beihai_party(self, community: GridNode) -> None:
        """北海新城: 16 party organizations and 171 party members embedded in the grids (seed)."""
        from grid import services

        committee = PartyOrganization.objects.get(node=community, level=PartyLevel.COMMUNITY_COMMITTEE)
        branches = list(PartyOrganization.objects.filter(parent=committee, level=PartyLevel.GRID_BRANCH))
        station = services.party_organization_create(
            parent=committee,
            level=PartyLevel.STATION_BRANCH,
            name="北海新城服务站党总支",
            node=community,
            secretary_name=self.person_name(),
        )
        buildings = list(GridNode.objects.filter(path__startswith=community.path, level=NodeLevel.BUILDING))
        groups = []
        for number in range(8):
            building = buildings[number * len(buildings) // 8]
            branch = next(b for b in branches if building.path.startswith(b.node.path))
            groups.append(
                services.party_organization_create(
                    parent=branch,
                    level=PartyLevel.BUILDING_GROUP,
                    name=f"{building.name}楼院党小组",
                    node=building,
                    secretary_name=self.person_name(),
                )
            )
        for group in groups[:3]:
            services.party_organization_create(
                parent=group,
                level=PartyLevel.CENTRAL_HOUSEHOLD,
                name=f"{group.node.name}党员中心户（{self.person_name()}家）",
                node=group.node,
            )
        self.report.add("party organizations", 1 + len(groups) + 3)
        units = list(CoBuildingUnit.objects.filter(community=community))
        targets = groups + branches + [station]
        memberships = []
        for number in range(171):
            if number < 120:
                kind, org, unit, registered = (
                    PartyMemberKind.RESIDENT,
                    targets[number % len(targets)],
                    None,
                    None,
                )
            elif number < 165:
                kind, org = PartyMemberKind.IN_SERVICE, committee
                unit = units[number % len(units)] if units else None
                registered = datetime.date(2023, 3, 1) + datetime.timedelta(days=number)
            else:
                kind, org, unit, registered = PartyMemberKind.REPRESENTATIVE, committee, None, None
            memberships.append(
                PartyMembership(
                    organization=org,
                    name=self.person_name(),
                    gender=self.random.choice(Gender.values),
                    kind=kind,
                    work_unit=unit,
                    joined_on=datetime.date(1970, 1, 1)
                    + datetime.timedelta(days=self.random.randint(0, 19000)),
                    registered_on=registered,
                )
            )
        PartyMembership.objects.bulk_create(memberships)
        self.report.add("party members", len(memberships))

    # Units and accounts ---------------------------------------------------------------------

    def units(self, communities: list[GridNode]) -> None:
        by_index = dict(enumerate(communities[: len(COMMUNITIES)]))
        rows = [
            CoBuildingUnit(
                name=name,
                kind=kind,
                community=by_index[index],
                address=f"天桥区无影山路{self.random.randint(1, 300)}号",
                contact_name=self.person_name(),
                contact_phone=self.mobile(),
                agreement_signed_on=datetime.date(2023, 1, 1)
                + datetime.timedelta(days=self.random.randint(0, 500)),
                agreement_ends_on=datetime.date(2027, 12, 31),
                committee_member=self.person_name() if kind == UnitKind.GOVERNMENT else "",
                offer_summary=offer,
            )
            for name, kind, index, offer in UNITS
            if index in by_index
        ]
        CoBuildingUnit.objects.bulk_create(rows)
        self.report.add("co-building units", len(rows))

    def accounts(self, street: GridNode, communities: list[GridNode]) -> None:
        beihai = next(c for c in communities if c.code == f"{STREET_CODE}001")
        grids = list(GridNode.objects.filter(parent=beihai, level=NodeLevel.GRID).order_by("path"))
        building = (
            GridNode.objects.filter(path__startswith=grids[0].path, level=NodeLevel.BUILDING)
            .order_by("path")
            .first()
        )
        unit = GridNode.objects.filter(parent=building).order_by("path").first()
        plan = [
            ("admin", "系统管理员", None, None, False),
            ("wys_leader", "街道领导", street, Role.STREET_LEADER, False),
            ("wys_staff", "街道工作人员", street, Role.COMMUNITY_STAFF, False),
            ("bhxc_secretary", "北海新城社区书记", beihai, Role.COMMUNITY_SECRETARY, False),
            ("bhxc_staff", "北海新城社区工作人员", beihai, Role.COMMUNITY_STAFF, False),
            ("bhxc_party_rep", "北海新城党代表", beihai, Role.PARTY_REPRESENTATIVE, False),
        ]
        for number, grid in enumerate(grids, start=1):
            plan += [
                (f"bhxc_g{number}_chief", f"第{number}网格网格长", grid, Role.GRID_CHIEF, False),
                (f"bhxc_g{number}_a", f"第{number}网格专职网格员(A岗)", grid, Role.GRID_WORKER, True),
                (f"bhxc_g{number}_b", f"第{number}网格专职网格员(B岗)", grid, Role.GRID_WORKER, False),
            ]
        plan += [
            ("bhxc_g1_parttime", "第1网格兼职网格员", grids[0], Role.PART_TIME_WORKER, False),
            ("bhxc_building_lead", f"{building.name}楼长", building, Role.BUILDING_LEAD, False),
            ("bhxc_unit_lead", f"{building.name}{unit.name}单元长", unit, Role.UNIT_LEAD, False),
            ("bhxc_volunteer", "北海新城志愿者", grids[0], Role.VOLUNTEER, False),
        ]
        for community in communities[1 : len(COMMUNITIES)]:
            plan.append(
                (
                    f"c{community.code[-3:]}_secretary",
                    f"{community.name}书记",
                    community,
                    Role.COMMUNITY_SECRETARY,
                    False,
                )
            )
        existing = set(
            User.objects.filter(username__in=[p[0] for p in plan]).values_list("username", flat=True)
        )
        users = []
        for username, label, node, _role, _primary in plan:
            if username in existing:
                continue
            home = (
                None
                if node is None
                else (
                    street if node == street else next(c for c in communities if node.path.startswith(c.path))
                )
            )
            users.append(
                User(
                    username=username,
                    name=label,
                    password=self.password_hash,
                    is_staff=True,
                    is_superuser=node is None,
                    home_node=home,
                    phone=self.mobile(),
                )
            )
        User.objects.bulk_create(users)
        by_name = {u.username: u for u in User.objects.filter(username__in=[p[0] for p in plan])}
        assignments = [
            Assignment(
                user=by_name[username],
                node=node,
                role=role,
                is_primary=primary,
                started_on=datetime.date(2024, 1, 1),
            )
            for username, _label, node, role, primary in plan
            if node is not None and username not in existing
        ]
        Assignment.objects.bulk_create(assignments)
        self.report.add("accounts", len(users))
        self.report.accounts = [
            (username, label, str(Role(role).label) if role else "superuser")
            for username, label, _n, role, _p in plan
        ]

    @transaction.atomic
    def build(self) -> SeedReport:
        street = self.street()
        communities = self.tree(street)
        if communities:
            self.party(street, communities)
            first = [c for c in communities if c.code <= f"{STREET_CODE}{len(COMMUNITIES):03d}"]
            if first:
                self.units(first)
                beihai = next((c for c in first if c.code == f"{STREET_CODE}001"), None)
                if beihai is not None:
                    self.beihai_party(beihai)
        all_first = list(
            GridNode.objects.filter(
                level=NodeLevel.COMMUNITY,
                code__lte=f"{STREET_CODE}{len(COMMUNITIES):03d}",
                code__startswith=STREET_CODE,
            ).order_by("code")
        )
        self.accounts(street, all_first)
        return self.report

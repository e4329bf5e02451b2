"""Demo households and residents for the demo street.

北海新城 gets its real size (1,121 households, about 4,300 residents); every other community 300
households. Ages follow 广生泉's structure (34.9% aged 60 and over); care groups, colours and
party members in plausible shares. Rows are bulk-inserted; communities that already have
households are left alone, so running it again adds nothing.
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from grid import history
from grid.choices import NodeLevel, PartyMemberKind
from grid.demo import GIVEN, STREET_CODE, SURNAMES
from grid.models import GridNode, PartyMembership
from residents import identity
from residents.choices import CareTagKind, Colour, HousingKind, PoliticalStatus, Relation, ResidenceKind
from residents.models import CareTag, ColourMark, Household, Resident

BEIHAI = f"{STREET_CODE}001"
HOUSEHOLDS = {BEIHAI: 1121}
DEFAULT_HOUSEHOLDS = 300
SEEDED = "演示数据初始登记"  # the reason on the first history row of every seeded record
# (lowest age, highest age, share): with heads of household drawn from adults, about 34.9% end up 60+.
AGE_SHARES = [
    (0, 17, 0.155),
    (18, 34, 0.19),
    (35, 59, 0.325),
    (60, 69, 0.155),
    (70, 79, 0.11),
    (80, 96, 0.065),
]
SIZES = [
    (1, 0.05),
    (2, 0.12),
    (3, 0.22),
    (4, 0.31),
    (5, 0.18),
    (6, 0.12),
]  # mean 3.8, as 北海新城 (4,300 / 1,121)


class _People:
    def __init__(self, seed: int):
        self.random = random.Random(seed)  # noqa: S311 - demo data, not secrets  # nosec B311
        self.today = timezone.localdate()
        self.sequence: dict[tuple[datetime.date, int], int] = {}

    def age(self, minimum: int = 0) -> int:
        while True:
            pick = self.random.random()
            for low, high, share in AGE_SHARES:
                if pick < share:
                    age = self.random.randint(low, high)
                    break
                pick -= share
            else:
                age = 40
            if age >= minimum:
                return age

    def birth_date(self, age: int) -> datetime.date:
        return self.today - datetime.timedelta(days=age * 365 + self.random.randint(1, 364))

    def id_number(self, region: str, born: datetime.date, male: bool) -> str:
        # GB 11643: odd sequence numbers for men, even for women; unique per region, date and sex.
        key = (region, born, male)
        serial = self.sequence.get(key, 1 if male else 2)
        self.sequence[key] = serial + 2
        body = f"{region}{born:%Y%m%d}{serial % 1000:03d}"
        return body + identity.id_check_digit(body)

    def name(self) -> str:
        return self.random.choice(SURNAMES) + "".join(
            self.random.choice(GIVEN) for _ in range(self.random.choice((1, 2, 2)))
        )

    def phone(self) -> str:
        return "1" + self.random.choice("3589") + "".join(self.random.choice("0123456789") for _ in range(9))

    def size(self) -> int:
        pick = self.random.random()
        for size, share in SIZES:
            if pick < share:
                return size
            pick -= share
        return 3


REGISTERED_DAYS_AGO = 730


def _relation(head_age: int, age: int, index: int) -> str:
    if index == 1 and age >= 20 and abs(age - head_age) <= 12:
        return Relation.SPOUSE
    if age >= head_age + 18:
        return Relation.PARENT
    if age <= head_age - 40:
        return Relation.GRANDCHILD
    return Relation.CHILD


@transaction.atomic
def build(*, scale: int = 1, stdout=None) -> dict[str, int]:
    communities = list(
        GridNode.objects.filter(level=NodeLevel.COMMUNITY, code__startswith=STREET_CODE).order_by("path")
    )
    people = _People(seed=7)
    created = {"households": 0, "residents": 0, "care tags": 0}
    for index, community in enumerate(communities):
        if Household.objects.filter(node__path__startswith=community.path).exists():
            continue
        # The first five are 天桥区 (370105); generated communities get regions of their own, so
        # that ID numbers never clash whichever run creates them.
        region = "370105" if index < 5 else f"37{index // 100 + 2:02d}{index % 100:02d}"
        counts = _build_community(
            community, HOUSEHOLDS.get(community.code, DEFAULT_HOUSEHOLDS), people, region
        )
        for key, value in counts.items():
            created[key] += value
    return {key: value for key, value in created.items() if value}


def _build_community(
    community: GridNode, household_count: int, people: _People, region: str
) -> dict[str, int]:
    # Households sit on units where buildings have them, else on the building.
    units = list(
        GridNode.objects.filter(path__startswith=community.path, level=NodeLevel.UNIT)
        .order_by("path")
        .only("id", "path")
    )
    if not units:
        units = list(
            GridNode.objects.filter(path__startswith=community.path, level=NodeLevel.BUILDING).only(
                "id", "path"
            )
        )
    if not units:
        return {}
    rnd = people.random
    households, plans = [], []
    per_unit = max(1, -(-household_count // len(units)))
    for index in range(household_count):
        unit = units[index // per_unit] if index // per_unit < len(units) else rnd.choice(units)
        slot = index % per_unit
        room = f"{slot // 2 + 1}0{slot % 2 + 1}"
        housing = rnd.choices(
            [HousingKind.OWNER, HousingKind.TENANT, HousingKind.PUBLIC_RENTAL, HousingKind.AFFORDABLE],
            weights=[78, 14, 5, 3],
        )[0]
        households.append(Household(node_id=unit.pk, room=room, housing_kind=housing))
        head_age = people.age(minimum=22)
        size = people.size()
        ages = [head_age]
        for _ in range(size - 1):
            ages.append(people.age())
        plans.append(ages)
    Household.objects.bulk_create(households, batch_size=2000)
    if households and households[0].pk is None:
        households = list(Household.objects.filter(node__path__startswith=community.path).order_by("id"))
    # Registered and given their colour when the community took up the system, two years ago: a
    # household is due a visit from its registration, at the cadence of its colour at the time.
    registered = timezone.now() - datetime.timedelta(days=REGISTERED_DAYS_AGO)
    Household.objects.filter(pk__in=[household.pk for household in households]).update(created_at=registered)

    residents = []
    for household, ages in zip(households, plans, strict=True):
        members = []
        for index, age in enumerate(ages):
            male = rnd.random() < 0.49
            born = people.birth_date(age)
            number = people.id_number(region, born, male)
            relation = Relation.HEAD if index == 0 else _relation(ages[0], age, index)
            members.append(
                Resident(
                    household=household,
                    name=people.name(),
                    gender="male" if male else "female",
                    birth_date=born,
                    id_number_encrypted=identity.encrypt(number),
                    id_number_hash=identity.lookup_hash(number),
                    id_number_masked=identity.mask_id_number(number),
                    phone=people.phone() if age >= 16 and rnd.random() < 0.85 else "",
                    relation=relation,
                    residence_kind=rnd.choices(
                        [ResidenceKind.REGISTERED, ResidenceKind.LONG_TERM, ResidenceKind.FLOATING],
                        weights=[80, 12, 8],
                    )[0],
                    ethnicity="汉族" if rnd.random() < 0.97 else rnd.choice(["回族", "满族", "蒙古族"]),
                    political_status=PoliticalStatus.MASSES
                    if age >= 28 or rnd.random() < 0.7
                    else PoliticalStatus.LEAGUE_MEMBER,
                )
            )
        residents.append(members)
    Resident.objects.bulk_create([r for members in residents for r in members], batch_size=2000)

    tags, marks = [], []
    today = people.today
    for household, members in zip(households, residents, strict=True):
        household.head = members[0]
        ages = [m.age_on(today) for m in members]
        elderly = all(a >= 60 for a in ages)
        colour = Colour.BLUE
        if len(members) == 1 and ages[0] >= 60:
            tags.append(CareTag(resident=members[0], kind=CareTagKind.LIVING_ALONE, since=_since(rnd, today)))
            colour = Colour.RED if ages[0] >= 80 else Colour.YELLOW
        elif elderly and len(members) == 2 and rnd.random() < 0.5:
            tags += [
                CareTag(resident=m, kind=CareTagKind.EMPTY_NEST, since=_since(rnd, today)) for m in members
            ]
            colour = Colour.YELLOW
        draw = rnd.random()
        if draw < 0.004:
            tags.append(
                CareTag(resident=members[0], kind=CareTagKind.EXTREME_POVERTY, since=_since(rnd, today))
            )
            colour = Colour.RED
        elif draw < 0.034:
            tags.append(CareTag(resident=members[0], kind=CareTagKind.LOW_INCOME, since=_since(rnd, today)))
            colour = Colour.YELLOW if colour == Colour.BLUE else colour
        for member, age in zip(members, ages, strict=True):
            pick = rnd.random()
            if pick < 0.02:
                tags.append(
                    CareTag(
                        resident=member,
                        kind=CareTagKind.DISABLED,
                        grade=rnd.randint(1, 4),
                        since=_since(rnd, today),
                    )
                )
                colour = Colour.YELLOW if colour == Colour.BLUE else colour
            elif pick < 0.0212 and age >= 18:
                tags.append(
                    CareTag(
                        resident=member, kind=CareTagKind.SEVERE_MENTAL_DISORDER, since=_since(rnd, today)
                    )
                )
                colour = Colour.RED
            elif pick < 0.031:
                tags.append(
                    CareTag(resident=member, kind=CareTagKind.SERIOUS_ILLNESS, since=_since(rnd, today))
                )
            elif pick < 0.046 and member.gender == "male" and age >= 40:
                tags.append(CareTag(resident=member, kind=CareTagKind.VETERAN, since=_since(rnd, today)))
            elif pick < 0.066 and 18 <= age <= 59:
                tags.append(CareTag(resident=member, kind=CareTagKind.UNEMPLOYED, since=_since(rnd, today)))
            elif pick < 0.071 and member.gender == "female" and 20 <= age <= 40:
                tags.append(CareTag(resident=member, kind=CareTagKind.PREGNANT, since=_since(rnd, today)))
            elif pick < 0.076 and age < 16:
                tags.append(
                    CareTag(resident=member, kind=CareTagKind.LEFT_BEHIND_CHILD, since=_since(rnd, today))
                )
        household.colour = colour
        marks.append(ColourMark(household=household, colour=colour, reason="入户摸排定色", set_at=registered))
    CareTag.objects.bulk_create(tags, batch_size=2000)
    Household.objects.bulk_update(households, ["head", "colour"], batch_size=2000)
    ColourMark.objects.bulk_create(marks, batch_size=2000)
    everyone = [m for members in residents for m in members]
    _link_party_members(community, everyone, today)
    # Each record's first history row, as an import leaves, holding what was seeded.
    history.record(households, reason=SEEDED, created=True)
    history.record(everyone, reason=SEEDED, created=True)
    history.record(tags, reason=SEEDED, created=True)
    return {
        "households": len(households),
        "residents": sum(len(m) for m in residents),
        "care tags": len(tags),
    }


def _since(rnd: random.Random, today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=rnd.randint(30, 3000))


def _link_party_members(community: GridNode, residents: list[Resident], today: datetime.date) -> None:
    """Resident party members of the community become residents' party-membership records."""
    memberships = list(
        PartyMembership.objects.filter(
            organization__node__path__startswith=community.path,
            kind=PartyMemberKind.RESIDENT,
            resident__isnull=True,
        ).order_by("id")
    )
    adults = [r for r in residents if r.age_on(today) >= 25]
    for membership, resident in zip(
        memberships, adults[:: max(1, len(adults) // max(1, len(memberships)))], strict=False
    ):
        membership.name, membership.gender = resident.name, resident.gender
        resident.political_status = PoliticalStatus.PARTY_MEMBER
        resident.party_membership = membership
    linked = [r for r in adults if r.party_membership_id]
    PartyMembership.objects.bulk_update(memberships, ["name", "gender"], batch_size=1000)
    Resident.objects.bulk_update(linked, ["political_status", "party_membership"], batch_size=1000)

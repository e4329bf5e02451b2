"""The community situation tables (社区情况表): aggregate views over the register for a subtree.

Each table is one grouped query over the subtree, grouped by the child node the rows fall under
(a prefix of the materialized path), so its cost does not depend on how many children there are.
"""

from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, Q, Value, When
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.models import GridNode
from grid.scope import node_in_scope
from residents.choices import AGE_BAND_LIMITS, SENSITIVE_TAGS, CareTagKind, Colour, ResidentStatus
from residents.models import CareTag, Household, Resident
from residents.selectors import birth_date_bounds


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    # Whether the last row sums the others (set out in bold); a plain list has none.
    totalled: bool = False


def _children_by_path(node: GridNode) -> dict[str, GridNode]:
    children = GridNode.objects.filter(parent=node).only("id", "name", "path", "level")
    return {child.path: child for child in children}


def _child_key(node: GridNode, lookup: str):
    return Substr(lookup, 1, len(node.path) + GridNode.steplen)


def _row_label(node: GridNode, path: str, children: dict[str, GridNode]) -> str:
    if path in children:
        return children[path].name
    return _("%(node)s (directly)") % {"node": node.name}


def population(node: GridNode) -> Table:
    """Living residents by age band and sex, per child node."""
    today = timezone.localdate()
    band = Case(
        *[
            When(birth_date_bounds(low, high, today), then=Value(str(value)))
            for value, low, high in AGE_BAND_LIMITS
        ],
        output_field=CharField(),
    )
    rows = (
        Resident.objects.filter(household__node__path__startswith=node.path, status=ResidentStatus.ACTIVE)
        .annotate(child=_child_key(node, "household__node__path"), band=band)
        .order_by()
        .values("child", "band", "gender")
        .annotate(n=Count("id"))
    )
    bands = [str(value) for value, _low, _high in AGE_BAND_LIMITS]
    keys = [(b, g) for b in bands for g in ("male", "female")]
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for row in rows:
        counts.setdefault(row["child"], {})[(row["band"], row["gender"])] = row["n"]
    children = _children_by_path(node)
    columns = [_("Node")]
    for value, _low, _high in AGE_BAND_LIMITS:
        label = str(value.label)
        columns += [_("%(band)s male") % {"band": label}, _("%(band)s female") % {"band": label}]
    columns += [_("Total"), _("Aged 60+"), _("Share aged 60+")]
    table = Table(_("Population by age band and sex"), columns)
    totals = [0] * len(keys)
    for path in sorted(set(children) | set(counts)):
        cells = [counts.get(path, {}).get(key, 0) for key in keys]
        totals = [a + b for a, b in zip(totals, cells, strict=True)]
        table.rows.append([_row_label(node, path, children), *cells, *_summary(cells, keys)])
        table.links.append(str(children[path].pk) if path in children else None)
    table.rows.append([_("Total"), *totals, *_summary(totals, keys)])
    table.links.append(None)
    table.totalled = True
    return table


def _summary(cells: list[int], keys: list[tuple[str, str]]) -> list:
    total = sum(cells)
    elderly = sum(n for n, (band, _g) in zip(cells, keys, strict=True) if band in ("60-69", "70-79", "80+"))
    share = f"{100 * elderly / total:.1f}%" if total else "–"
    return [total, elderly, share]


def care_groups(node: GridNode, sensitive: bool = False) -> Table:
    """Current care tags of living residents, per child node, with the derived elderly bands.
    The sensitive groups (disability, low income...) are counted only with `sensitive`: for a
    role that may see them over the whole node (a count of one in a small unit names a person)."""
    today = timezone.localdate()
    kinds = [kind for kind in CareTagKind if sensitive or kind.value not in SENSITIVE_TAGS]
    tag_rows = (
        CareTag.objects.filter(
            Q(until__isnull=True) | Q(until__gt=today),
            since__lte=today,
            resident__household__node__path__startswith=node.path,
            resident__status=ResidentStatus.ACTIVE,
            kind__in=[kind.value for kind in kinds],
        )
        .annotate(child=_child_key(node, "resident__household__node__path"))
        .order_by()
        .values("child", "kind")
        .annotate(n=Count("resident", distinct=True))
    )
    elderly_rows = (
        Resident.objects.filter(household__node__path__startswith=node.path, status=ResidentStatus.ACTIVE)
        .annotate(child=_child_key(node, "household__node__path"))
        .order_by()
        .values("child")
        .annotate(
            over60=Count("id", filter=birth_date_bounds(60, None, today)),
            over70=Count("id", filter=birth_date_bounds(70, None, today)),
            over80=Count("id", filter=birth_date_bounds(80, None, today)),
        )
    )
    counts: dict[str, dict[str, int]] = {}
    for row in tag_rows:
        counts.setdefault(row["child"], {})[row["kind"]] = row["n"]
    for row in elderly_rows:
        counts.setdefault(row["child"], {}).update(
            {"60+": row["over60"], "70+": row["over70"], "80+": row["over80"]}
        )
    keys = ["60+", "70+", "80+", *[kind.value for kind in kinds]]
    columns = [_("Node"), _("Aged 60+"), _("Aged 70+"), _("Aged 80+"), *[str(kind.label) for kind in kinds]]
    table = Table(_("Care groups"), columns)
    children = _children_by_path(node)
    totals = [0] * len(keys)
    for path in sorted(set(children) | set(counts)):
        cells = [counts.get(path, {}).get(key, 0) for key in keys]
        totals = [a + b for a, b in zip(totals, cells, strict=True)]
        table.rows.append([_row_label(node, path, children), *cells])
        table.links.append(str(children[path].pk) if path in children else None)
    table.rows.append([_("Total"), *totals])
    table.links.append(None)
    table.totalled = True
    return table


def key_households(node: GridNode, colours=(Colour.RED, Colour.YELLOW), limit: int = 2000) -> Table:
    """Households marked red or yellow in the subtree, most urgent first."""
    households = (
        Household.objects.filter(node__path__startswith=node.path, colour__in=colours)
        .select_related("node", "head")
        .annotate(member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
        .order_by(Case(When(colour=Colour.RED, then=Value(0)), default=Value(1)), "node__path", "room")[
            :limit
        ]
    )
    table = Table(
        _("Key households by colour"),
        [_("Colour"), _("Building / unit"), _("Room"), _("Head of household"), _("Members"), _("Housing")],
    )
    for household in households:
        table.rows.append(
            [
                household.get_colour_display(),
                household.node.name,
                household.room,
                household.head.name if household.head else "",
                household.member_count,
                household.get_housing_kind_display(),
            ]
        )
        table.links.append(None)
    return table


TABLES = {"population": population, "care-groups": care_groups, "key-households": key_households}


def build(which: str, node: GridNode, user) -> Table:
    """One situation table of `node` as `user` may see it."""
    if which == "care-groups":
        return care_groups(node, sensitive=node_in_scope(user, node, "residents.view_sensitive_resident"))
    return TABLES[which](node)

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from grid import mobile, xlsx
from grid.models import GridNode
from grid.permissions import FIELD_WORKERS
from grid.scope import node_in_scope, scope_queryset, user_roles


@login_required
def home(request):
    """Send each person to the place they work in: field roles to their phone pages, staff to the admin."""
    roles = user_roles(request.user)
    if roles and roles <= FIELD_WORKERS | {"volunteer", "party_representative"}:
        return redirect("mobile-home")
    return redirect("admin:index")


@login_required
def mobile_home(request):
    entries = [(reverse(entry.url_name), entry.label) for entry in mobile.entries_for(request.user)]
    return render(request, "mobile/home.html", {"entries": entries})


RANKING_PAGE_SIZE = 50
# The periods a dashboard may show: its trend and comparison reach years back and ahead.
EARLIEST_DAY, LATEST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def _dashboard_period(request) -> tuple[str, datetime.date]:
    from grid import rollup

    kind = request.GET.get("period", "month")
    if kind not in rollup.PERIOD_KINDS:
        kind = "month"
    try:
        day = datetime.date.fromisoformat(request.GET.get("start", ""))
    except ValueError:
        day = timezone.localdate()
    if not EARLIEST_DAY <= day <= LATEST_DAY:  # a year and its neighbours must stay dates
        day = timezone.localdate()
    return kind, rollup.period_start(kind, day)


@login_required
def dashboard(request, node_id=None):
    """Leaders' dashboard: rolled-up figures of a node's subtree for a period, trend, children
    ranking and map; every figure links to its records; Excel export of what is shown."""
    from grid import dashboard as board
    from grid import rollup

    if not request.user.has_perm("grid.view_metricvalue"):
        raise PermissionDenied
    if node_id is None:
        top = (
            scope_queryset(GridNode.objects.all(), request.user, permission="grid.view_metricvalue")
            .order_by("depth", "path")
            .first()
        )
        if top is None:
            raise PermissionDenied
        return redirect("dashboard-node", node_id=top.pk)
    node = GridNode.objects.filter(pk=node_id).first()
    if node is None or not node_in_scope(request.user, node, "grid.view_metricvalue"):
        raise Http404
    kind, start = _dashboard_period(request)
    export = request.GET.get("format") == "xlsx"
    data = board.build(
        node,
        kind,
        start,
        rank_by=request.GET.get("rank", "received"),
        page=request.GET.get("page"),
        page_size=None if export else RANKING_PAGE_SIZE,
    )
    for row in data["headline"]:
        metric = rollup.REGISTRY.get(row["metric"])
        row["records"] = metric.records(node, start, data["end"]) if metric and metric.records else ""
    if export:
        return _dashboard_xlsx(data)
    # Ancestors and the node in one query, so a root costs what any node costs.
    steplen = GridNode.steplen
    paths = [node.path[:end] for end in range(steplen, len(node.path) + 1, steplen)]
    ancestors = [
        a
        for a in GridNode.objects.filter(path__in=paths).order_by("path")
        if a.pk != node.pk and node_in_scope(request.user, a, "grid.view_metricvalue")
    ]
    rank_by = data["rank_by"]
    # A street may have hundreds of communities: the table shows a page of them, every one is
    # on the map (coloured by the ranking figure) and in the Excel export.
    query = f"period={kind}&start={start.isoformat()}"
    codes = [figure.code for figure in board.FIGURES]
    for row in data["shown"]:
        row["url"] = f"{reverse('dashboard-node', args=[row['id']])}?{query}"
        # One string per row: 50 rows of 15 figures are 750 template nodes less to render.
        row["cells"] = format_html_join(
            "",
            "<td>{}</td>",
            (("–" if value is None else localize(value),) for value in map(row["figures"].get, codes)),
        )
    node_url = reverse("dashboard-node", args=[0]).replace("/0/", "/{id}/")
    payload = {
        "trend": data["trend"],
        "labels": {f.code: str(f.label) for f in board.FIGURES},
        "map": [
            {
                "id": r["id"],
                "name": r["name"],
                "geometry": r["geometry"],
                "value": r["value"],
                "url": node_url.replace("{id}", str(r["id"])) + "?" + query,
            }
            for r in data["ranking"]
        ],
        "metric": rank_by,
    }
    return render(
        request,
        "dashboard/node.html",
        {
            "data": data,
            "node": node,
            "ancestors": ancestors,
            "ranking": data["shown"],
            "page": data["page"],
            "query": query,
            "page_query": f"{query}&rank={rank_by}",
            "rank_by": rank_by,
            "rank_figure": board.FIGURE_BY_CODE[rank_by],
            "figures": board.FIGURES,
            "payload": payload,
            "kinds": rollup.PERIOD_KINDS,
        },
    )


PERIOD_LABELS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
    "quarter": gettext_lazy("Quarter"),
    "year": gettext_lazy("Year"),
}


def _dashboard_xlsx(data) -> HttpResponse:
    """What the page shows, in the page's language: the headline, then every child in the order
    of the page's ranking, with its position."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(_("Overview"))[:31]
    xlsx.append(sheet, [data["node"].name, str(PERIOD_LABELS[data["kind"]]), data["start"].isoformat()])
    xlsx.append(sheet, [_("Period shown"), data["start"].isoformat(), data["last"].isoformat()])
    compared = (
        _("Compared with (same days of the previous period)")
        if data["same_days"]
        else _("Compared with (previous period)")
    )
    xlsx.append(sheet, [compared, data["previous"].isoformat(), data["previous_last"].isoformat()])
    xlsx.append(sheet, [])
    xlsx.append(sheet, [_("Figure"), _("Value"), _("Change"), _("Unit")])
    for row in data["headline"]:
        xlsx.append(sheet, [str(row["label"]), row["value"], row["change"], "%" if row["percent"] else ""])
    children = workbook.create_sheet(str(_("Ranking of lower levels"))[:31])
    codes = [figure["code"] for figure in data["headline"]]
    labels = [
        f"{figure['label']}（%）" if figure["percent"] else str(figure["label"])
        for figure in data["headline"]
    ]
    xlsx.append(children, [_("Rank"), pgettext("place", "Name"), *labels])
    for row in data["ranking"]:
        xlsx.append(children, [row["position"], row["name"], *[row["figures"].get(code) for code in codes]])
    return xlsx.response(workbook, f"dashboard-{data['node'].code}-{data['start']}.xlsx")

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grid import xlsx
from grid.models import GridNode
from grid.scope import node_in_scope, object_in_scope, path_checker, scope_queryset
from grid.validators import parse_id
from residents import excel, selectors, services, tables
from residents.choices import SENSITIVE_TAGS, AccessAction, ResidentStatus
from residents.forms import ImportForm, TableForm
from residents.identity import mask_phone
from residents.models import ImportJob, Resident
from residents.tasks import run_import

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_IMPORT_ROWS = 500


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{filename}"
    return response


def _chosen_node(request, permission: str) -> GridNode:
    """The node named by `?node=` (404 unless in scope), else the top of the user's scope."""
    node_id = request.GET.get("node")
    if node_id:
        node_pk = parse_id(node_id)
        node = GridNode.objects.filter(pk=node_pk).first() if node_pk is not None else None
        if node is None or not node_in_scope(request.user, node, permission):
            raise Http404
        return node
    nodes = scope_queryset(GridNode.objects.all(), request.user, permission=permission)
    node = nodes.order_by("depth", "path").first()
    if node is None:
        raise PermissionDenied
    return node


@login_required
@permission_required("residents.view_resident", raise_exception=True)
def situation_tables(request):
    """社区情况表: population structure, care groups and key households for a subtree."""
    node = _chosen_node(request, "residents.view_resident")
    which = request.GET.get("table", "population")
    if which not in tables.TABLES:
        which = "population"
    table = tables.build(which, node, request.user)
    if request.GET.get("format") == "xlsx":
        if not node_in_scope(request.user, node, "residents.export_resident"):
            raise PermissionDenied
        workbook, sheet = excel.new_workbook(title=table.title[:31])
        sheet.delete_rows(1)
        sheet.data_validations.dataValidation = []
        xlsx.append(sheet, [f"{node.name} · {table.title} · {timezone.localdate()}"])
        xlsx.append(sheet, [str(c) for c in table.columns])
        for row in table.rows:
            xlsx.append(sheet, [str(c) if not isinstance(c, int) else c for c in row])
        return _xlsx_response(excel.save(workbook), f"{node.code}-{which}.xlsx")
    return render(
        request,
        "residents/tables.html",
        {
            "node": node,
            "table": table,
            "rows": list(zip(table.rows, table.links, strict=True)),
            "which": which,
            "choices": [
                ("population", _("Population")),
                ("care-groups", _("Care groups")),
                ("key-households", _("Key households")),
            ],
            "form": TableForm(user=request.user, initial={"node": node.pk}),
            "can_export": node_in_scope(request.user, node, "residents.export_resident"),
        },
    )


@login_required
@permission_required("residents.export_resident", raise_exception=True)
def ledger_export(request):
    """The ledger of a subtree in the import columns, with ID numbers and phones masked."""
    node = _chosen_node(request, "residents.export_resident")
    residents = (
        scope_queryset(Resident.objects.all(), request.user, permission="residents.export_resident")
        .filter(household__node__path__startswith=node.path, status=ResidentStatus.ACTIVE)
        .select_related("household", "household__node")
        .prefetch_related(selectors.current_tags())
        .order_by("household__node__path", "household__room", "id")
    )
    sensitive_ok = path_checker(request.user, "residents.view_sensitive_resident")
    workbook, sheet = excel.new_workbook()
    labels = excel.LABELS
    sensitive_seen = []
    for resident in residents.iterator(chunk_size=2000):
        household = resident.household
        tags = resident.current_tags
        if sensitive_ok(household.node.path):
            if any(t.kind in SENSITIVE_TAGS for t in tags):
                sensitive_seen.append(resident)
        else:
            tags = [t for t in tags if t.kind not in SENSITIVE_TAGS]
        xlsx.append(
            sheet,
            [
                household.node.code,
                household.room,
                labels["housing_kind"].get(household.housing_kind, ""),
                resident.name,
                labels["relation"].get(resident.relation, ""),
                resident.id_number_masked,
                labels["gender"].get(resident.gender, ""),
                resident.birth_date.isoformat(),
                mask_phone(resident.phone),
                labels["residence_kind"].get(resident.residence_kind, ""),
                resident.ethnicity,
                labels["political_status"].get(resident.political_status, ""),
                excel.format_tags(tags),
                {"red": "红", "yellow": "黄", "blue": "蓝"}.get(household.colour, ""),
                resident.notes,
            ],
        )
    services.access_log(
        user=request.user,
        residents=sensitive_seen,
        action=AccessAction.EXPORT,
        fields="care_tags",
        where=request.path,
    )
    return _xlsx_response(excel.save(workbook), f"{node.code}-ledger.xlsx")


@login_required
@permission_required("residents.import_resident", raise_exception=True)
def import_template(request):
    return _xlsx_response(excel.template_bytes(), "resident-ledger-template.xlsx")


@login_required
@permission_required("residents.import_resident", raise_exception=True)
def import_start(request):
    form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        job = ImportJob.objects.create(
            file=form.cleaned_data["file"],
            original_name=form.cleaned_data["file"].name[:200],
            mode=form.cleaned_data["mode"],
            scope_node=form.cleaned_data["node"],
            created_by=request.user,
        )
        # Small ledgers finish within the request; large ones go to a worker and the page shows progress.
        if form.cleaned_data["file"].size < INLINE_IMPORT_ROWS * 200:
            run_import.apply(args=[job.pk])
        else:
            transaction.on_commit(lambda: run_import.delay(job.pk))
        return redirect("residents:import-status", pk=job.pk)
    jobs = selectors.import_job_list(user=request.user).filter(created_by=request.user)[:10]
    return render(request, "residents/import.html", {"form": form, "jobs": jobs})


def _job_for(request, pk) -> ImportJob:
    return get_object_or_404(selectors.import_job_list(user=request.user), pk=pk)


@login_required
@permission_required("residents.import_resident", raise_exception=True)
def import_status(request, pk):
    job = _job_for(request, pk)
    return render(request, "residents/import_status.html", {"job": job, "errors": job.errors[:500]})


@login_required
@permission_required("residents.import_resident", raise_exception=True)
@require_GET
def import_status_json(request, pk):
    job = _job_for(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "percent": job.progress_percent,
            "finished": job.finished_at is not None,
            "message": job.message,
            "error_count": len(job.errors),
        }
    )


# Phone pages for grid workers --------------------------------------------------------------


@login_required
@permission_required("residents.view_resident", raise_exception=True)
def mobile_search(request):
    """Find a resident or household in my grid by name, room or phone tail."""
    query = request.GET.get("q", "").strip()[:50]
    residents = []
    if query:
        residents = list(
            selectors.resident_list(user=request.user)
            .filter(selectors.search_condition(query, request.user))
            .select_related("household__node__parent")
            .order_by("status", "household__node__path", "household__room")[:30]
        )
    return render(request, "mobile/resident_search.html", {"query": query, "residents": residents})


@login_required
@permission_required("residents.view_resident", raise_exception=True)
def mobile_household(request, pk):
    household = get_object_or_404(
        selectors.household_list(user=request.user).select_related("node__parent"), pk=pk
    )
    members = list(selectors.household_members(household))
    sensitive_ok = path_checker(request.user, "residents.view_sensitive_resident")(household.node.path)
    seen = []
    for member in members:
        if not sensitive_ok:
            member.current_tags = [t for t in member.current_tags if t.kind not in SENSITIVE_TAGS]
            member.health_notes = ""
        elif services.has_sensitive_content(member, member.current_tags):
            seen.append(member)
    services.access_log(
        user=request.user,
        residents=seen,
        action=AccessAction.VIEW_SENSITIVE,
        fields="care_tags,health_notes",
        where=request.path,
    )
    for member in members:
        member.phone_masked = mask_phone(member.phone)
    may_call = path_checker(request.user, "residents.reveal_phone_resident")(household.node.path)
    marks = household.colour_marks.select_related("set_by")[:5]
    return render(
        request,
        "mobile/household.html",
        {
            "household": household,
            "members": members,
            "marks": marks,
            "sensitive_ok": sensitive_ok,
            "may_call": may_call,
        },
    )


class _DialRedirect(HttpResponseRedirect):
    allowed_schemes = ["tel"]


@login_required
@require_POST
def mobile_call(request, pk):
    """Dial a resident: the full number leaves the server only here, and the reveal is logged."""
    resident = get_object_or_404(selectors.resident_list(user=request.user), pk=pk)
    if not object_in_scope(request.user, resident, "residents.reveal_phone_resident") or not resident.phone:
        raise PermissionDenied
    number = services.identity_reveal(resident=resident, user=request.user, field="phone", where=request.path)
    return _DialRedirect(f"tel:{number}")

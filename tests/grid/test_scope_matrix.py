"""The scope matrix: every registered route, found by walking the URL resolver, gives a user assigned
to another community, or to the neighbouring grid, nothing of 北海新城.

No route is listed by hand. `get_resolver()` is walked recursively (the admin site with every
registered ModelAdmin and its custom views, the API router, the pages of config/urls.py and
residents/urls.py, Open311) and each route is classified by what it is:

* lists (admin changelists and add forms, API lists and list actions, pages without an object id):
  requested as each outsider, plain and with filters naming a foreign node; no foreign record may
  be listed (admin `cl.result_list` and the changelist's filter choices, API `results`, model
  instances in a page's context), no form may offer one as a choice, and no 北海新城 marker text
  may appear in the body (HTML, JSON or the cells of an Excel export);
* object routes (admin change/delete/history pages and custom object views, API details and detail
  actions with every HTTP method the route maps, pages taking an object id): requested for a
  record outside the outsider's area; the answer must be a refusal (403/404/405) or a redirect to
  the login page or admin index (or to a page that shows nothing of the record), never the record;
* nothing answers 500 (list routes also get an empty-body POST, as one outsider, to see that).

The API's format-suffix twins (`tickets.json`, `tickets/<pk>/accept.json`) run the same views and
are requested as one outsider only, to keep the run under a minute.

`test_every_route_is_checked_or_allow_listed` fails on a route that is neither checkable nor in
PUBLIC_BY_DESIGN, so a new route is checked, or flagged, without anyone adding a case here.

Outsiders: the secretary of 无影山东路社区 (another community's office) and the chief and a worker
of 北海新城第2网格 (the neighbouring grid). "Foreign" for an outsider: a record whose scope node (its
model's SCOPE_NODE_FIELD) lies outside every node the outsider holds an assignment on; that is all
of 北海新城 for the secretary, and 北海新城 outside grid 2 (grid 1 and community-level records) for the
grid's chief and worker.

The data (the demo street plus the demo lists and services of 北海新城, and a record of every other
scoped model) is built once for the module in a transaction rolled back at the end; every request
runs in a savepoint that is rolled back too.
"""

import dataclasses
import datetime
import io
import json
from functools import cached_property

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import AdminForm
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Page
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.forms import BaseForm
from django.test import Client, RequestFactory
from django.test.utils import ContextList
from django.urls import URLResolver, get_resolver
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.regex_helper import normalize
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from grid.admin_scope import SubtreeListFilter
from grid.choices import NodeLevel
from grid.models import GridNode, User, WorkerHeartbeat

pytestmark = pytest.mark.django_db

MARK = "SCOPEMARK"  # written into a few 北海新城 records; must never reach an outsider

# Routes that are public by design, or only ever act on the caller's own session/account.
# Keyed by route name (namespaced), or by path template when the route has no name.
PUBLIC_BY_DESIGN = {
    "healthz": "operators' probe: says which backing service is down, no records",
    "login": "the login page itself",
    "logout": "ends the caller's own session",
    "set_language": "switches the caller's own interface language",
    "api-token": "exchanges the caller's own username and password for a token",
    "api-schema": "the OpenAPI description, no records",
    "api-docs": "Swagger UI around the schema, no records",
    "api-root": "the API's index of endpoint URLs, no records",
    "public-report": "r/<code>/: the QR code on a building, residents report without an account",
    "public-track": "t/<code>/: a resident follows a report by its unguessable tracking code",
    "wish-wall": "w/<code>/: a community's public micro-wish wall and praise board, no personal data",
    "event-checkin": "e/<code>/: a participant signs in by the event's QR code (unguessable check-in code)",
    "open311-discovery": "GeoReport v2 discovery document, public by the specification",
    "open311-services": "GeoReport v2 service list (ticket categories), public by the specification",
    "open311-service": "GeoReport v2 service definition (one category), public by the specification",
    "admin:login": "the admin login page",
    "admin:logout": "ends the caller's own session",
    "admin:password_change": "changes the caller's own password",
    "admin:password_change_done": "confirms the caller's own password change",
    "admin:jsi18n": "static JavaScript translation catalogue",
    "admin/%(url)s": "admin catch-all: redirects unknown admin paths (final_catch_all), no records",
}

# Reference data that belongs to no community: readable by design by whoever has the view permission.
# Their lists are still requested (status < 500, no marker text); their object pages are not refused.
GLOBAL_MODELS = {
    "demands.TicketCategory": "ticket categories (also the Open311 services), street-wide reference data",
    "services.EventKind": "kinds of service event, street-wide reference data",
    "services.VisitCadence": "visit cadence per colour, street-wide settings",
    "services.Indicator": "competition indicators and weights, street-wide settings",
}

# Models without SCOPE_NODE_FIELD that still belong to someone: how they reach their node.
OWNED_VIA = {"authtoken.TokenProxy": "user__home_node"}

# Pages that take an object id under a name that does not say which model.
PAGE_OBJECT_MODELS = {
    "mobile-household": "residents.Household",
    "mobile-call": "residents.Resident",
    "residents:import-status": "residents.ImportJob",
    "residents:import-status-json": "residents.ImportJob",
    "mobile-ticket": "demands.Ticket",
    "mobile-call-reporter": "demands.Ticket",
    "mobile-event-signin": "services.ServiceEvent",
    "programme-eligible": "services.Programme",
    "open311-request": "demands.Ticket",
}
# Object-id parameters whose name says the model.
PARAM_MODELS = {"node_id": "grid.GridNode", "household_id": "residents.Household"}
# Lists (not API, not admin) whose JSON rows carry the ids of a model under `ID_KEYS`.
PAGE_LIST_MODELS = {"open311-requests": "demands.Ticket"}

OBJECT_PARAMS = {"pk", "object_id", "id", "node_id", "household_id", "service_request_id"}
ID_KEYS = ("id", "service_request_id")
FIXED_PARAMS = {"format": "json", "response_format": "json", "field": "phone"}
REFUSED = {401, 403, 404, 405}

OUTSIDERS = {
    "c002_secretary": "secretary of 无影山东路社区 (another community's office)",
    "bhxc_g2_chief": "grid chief of 北海新城第2网格 (the neighbouring grid)",
    "bhxc_g2_a": "grid worker of 北海新城第2网格 (the neighbouring grid)",
}
# Empty-body POSTs to list routes (create forms and the like) probe for crashes, not for scope: the
# outsider with the widest permissions sends them.
CRASH_PROBER = "c002_secretary"
COMMUNITY_MARKERS = ("北海新城", MARK)
GRID_MARKERS = ("北海新城第1网格", "370105005001-G01", MARK)


# Route discovery ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Route:
    name: str
    template: str
    params: tuple[str, ...]
    callback: object = dataclasses.field(compare=False, hash=False, repr=False)

    @property
    def key(self) -> str:
        return self.name if self.name and not self.name.endswith(":") else self.template

    @property
    def label(self) -> str:
        path = self.template
        for param in self.params:
            path = path.replace(f"%({param})s", f"<{param}>")
        return "/" + path


def _bare(regex: str) -> str:
    regex = regex.removeprefix("^")
    if regex.endswith(r"\Z"):
        return regex[:-2]
    return regex.removesuffix("$")


def _walk(resolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        regex = prefix + _bare(pattern.pattern.regex.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, regex, inner)
        else:
            template, params = normalize(regex)[0]
            yield Route(f"{namespace}{pattern.name or ''}", template, tuple(params), pattern.callback)


ROUTES = list(dict.fromkeys(_walk(get_resolver())))


def _admin_model(route: Route):
    model_admin = getattr(route.callback, "model_admin", None)
    if model_admin is not None:
        return model_admin.model
    for model in admin.site._registry:
        if route.template.startswith(f"admin/{model._meta.app_label}/{model._meta.model_name}/"):
            return model
    return None


@dataclasses.dataclass(frozen=True)
class Plan:
    kind: str  # list | detail | node-table | autocomplete | app-list | view-on-site
    model: str | None = None  # "app_label.ModelName"
    methods: tuple[str, ...] = ("get",)
    list_posts: bool = False  # a list route that also accepts POST (create and the like)


def _label(model) -> str:
    return model._meta.label


def _plan(route: Route) -> Plan | None:
    """What to check on a route, or None if the test does not know how (it then fails)."""
    callback, params = route.callback, set(route.params)
    object_params = params & OBJECT_PARAMS
    if route.name.startswith("admin:"):
        model = _admin_model(route)
        if route.name == "admin:autocomplete":
            return Plan("autocomplete")
        if route.name == "admin:app_list":
            return Plan("app-list")
        if route.name == "admin:view_on_site":
            return Plan("view-on-site")
        if model is None:
            return Plan("list") if not params else None
        if route.name.endswith("_changelist"):
            return Plan("list", _label(model))
        if route.name.endswith("_add"):
            return Plan("list", _label(model), list_posts=True)
        if object_params and params <= OBJECT_PARAMS | set(FIXED_PARAMS):
            # POST too, except to the history page and the bare `<id>/` redirect to the change page.
            read_only = route.name == "admin:" or route.name.endswith("_history")
            return Plan("detail", _label(model), ("get",) if read_only else ("get", "post"))
        return None
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a DRF viewset route
        view_class = callback.cls
        model = _label(_api_model(callback))
        methods = tuple(actions)
        if getattr(view_class, "lookup_value_regex", "[^/.]+") != "[^/.]+":
            return Plan("node-table", model, methods)
        if object_params:
            return Plan("detail", model, methods)
        return Plan("list", model, ("get",) if "get" in actions else (), list_posts="post" in actions)
    if not params - set(FIXED_PARAMS):
        return Plan("list", PAGE_LIST_MODELS.get(route.name), list_posts=True)
    if len(object_params) == 1 and not params - OBJECT_PARAMS - set(FIXED_PARAMS):
        (param,) = object_params
        model = PARAM_MODELS.get(param) or PAGE_OBJECT_MODELS.get(route.name)
        return Plan("detail", model, ("get", "post")) if model else None
    return None


def _api_model(callback):
    """The model a viewset serves, asked of the viewset itself (as a superuser, so no scope query)."""
    view = callback.cls(**callback.initkwargs)
    view.action_map = callback.actions
    view.action = next(iter(callback.actions.values()))
    request = Request(RequestFactory().get("/"))
    request.user = User(username="route-probe", is_superuser=True, is_active=True)
    view.request, view.args, view.kwargs, view.format_kwarg = request, (), {}, None
    return view.get_queryset().model


PLANS = {route: _plan(route) for route in ROUTES if route.key not in PUBLIC_BY_DESIGN}
CHECKED = [route for route, plan in PLANS.items() if plan is not None]


# The world: the demo street with a record of every scoped model in 北海新城 -----------------------


class World:
    def __init__(self):
        from demands import list_demo, lists
        from demands import open311 as open311_module
        from demands import services as ticket_services
        from grid import rollup
        from grid.demo import DemoBuilder
        from residents import services as resident_services
        from residents.choices import AccessAction, ImportMode
        from residents.models import ImportJob
        from services import demo as services_demo
        from services import services as service_services
        from services.choices import OrganizerKind
        from services.models import EventKind
        from tests.conftest import DemoStreet
        from tests.demands.conftest import Loop
        from tests.residents.conftest import Register
        from tests.residents.factories import make_resident

        DemoBuilder().build()
        demo = self.demo = DemoStreet()
        self.beihai, self.grid_a, self.grid_b = demo.beihai, demo.grid_a, demo.grid_b
        self.register = register = Register(demo)
        list_demo.build()  # demands, claims, resources, projects, registrations, topics ...
        services_demo.build()  # events, series, programmes, deliveries, visits, points, assessments
        loop = Loop(demo)
        secretary = demo.user("bhxc_secretary")

        # Marked records in grid A (the neighbouring grid's workers must not see them either).
        ticket = loop.ticket(description=f"{MARK} 楼道堆放杂物", location_text=MARK)
        ticket = ticket_services.ticket_accept(ticket=ticket, actor=loop.worker_a)
        ticket_services.ticket_resolve(ticket=ticket, actor=loop.worker_a, note=f"{MARK} 已处理")
        loop.ticket(node=loop.building_b, description="第2网格的楼道杂物")
        other_building = GridNode.objects.filter(
            path__startswith=demo.other_community.path, level=NodeLevel.BUILDING
        ).order_by("path")[0]
        loop.ticket(node=other_building, description="无影山东路的楼道杂物")
        lists.demand_create(
            node=loop.building_a,
            title=f"{MARK} 想要一台收音机",
            kind="goods",
            source="resident",
            is_micro_wish=True,
            created_by=secretary,
        )
        starts = timezone.now() + datetime.timedelta(hours=2)
        service_services.event_create(
            node=self.grid_a,
            kind=EventKind.objects.get(code="patrol"),
            title=f"{MARK} 巡查",
            organizer_kind=OrganizerKind.COMMUNITY,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(hours=1),
        )
        service_services.programme_create(
            node=self.beihai, name=f"{MARK} 助餐", benefit="测试", rule={"age_min": 70}
        )
        # Records the builders above do not make.
        ImportJob.objects.create(
            file="imports/scope-matrix.xlsx",
            original_name="北海新城台账.xlsx",
            mode=ImportMode.VALID_ROWS,
            scope_node=self.beihai,
            created_by=secretary,
        )
        resident_services.access_log(
            user=secretary,
            residents=[register.elder],
            action=AccessAction.VIEW_SENSITIVE,
            fields="care_tags",
            where="/scope-matrix/",
        )
        resident_services.colour_set(
            household=register.home_a, colour="yellow", reason="入户走访", actor=secretary
        )
        make_resident(
            register.home_a, "王建华", relation="spouse", born=datetime.date(1942, 4, 4), notes=MARK
        )
        open311_module.issue_key(name="北海新城12345热线", node=self.beihai, created_by=secretary)
        _client, self.other_key = open311_module.issue_key(
            name="无影山东路12345热线", node=demo.other_community, created_by=demo.user("c002_secretary")
        )
        Token.objects.create(user=demo.user("bhxc_staff"))
        Group.objects.create(name="scope-matrix")
        WorkerHeartbeat.objects.create(hostname="scope-matrix", seen_at=timezone.now())
        # Login records (superuser-only): a success, then a failure, through the real login form.
        staff = demo.user("bhxc_staff")
        staff.set_password("scope-matrix-pass")
        staff.save()
        door = Client()
        door.post("/accounts/login/", {"username": "bhxc_staff", "password": "scope-matrix-pass"})
        door.post("/accounts/login/", {"username": "bhxc_staff", "password": "wrong"})
        rollup.rebuild()

        self.users = {
            "c002_secretary": demo.user("c002_secretary"),
            "bhxc_g2_chief": demo.user("bhxc_g2_chief"),
            "bhxc_g2_a": demo.user("bhxc_g2_a"),
        }
        self.markers = {
            who: GRID_MARKERS if who.startswith("bhxc_") else COMMUNITY_MARKERS for who in self.users
        }
        # Logged in once for the module: the sessions live as long as the world.
        self.clients = {}
        for who, user in self.users.items():
            self.clients[who] = Client(raise_request_exception=False)
            self.clients[who].force_login(user)
        self._foreign: dict[tuple[str, str], frozenset] = {}

    @cached_property
    def own_paths(self) -> dict[str, tuple[str, ...]]:
        from grid.models import Assignment

        return {
            who: tuple(Assignment.objects.current().filter(user=user).values_list("node__path", flat=True))
            for who, user in self.users.items()
        }

    # Where records belong.

    @staticmethod
    def scope_field(model) -> str | None:
        field = getattr(model, "SCOPE_NODE_FIELD", None)
        return OWNED_VIA.get(model._meta.label, field)

    def scope_path(self, obj: Model) -> str | None:
        field = self.scope_field(type(obj))
        if field is None:
            return None
        node = obj
        for part in field.split("__") if field else []:
            node = getattr(node, part, None)
            if node is None:
                return None
        return node.path

    def outside(self, who: str, path: str | None) -> bool:
        return path is not None and not path.startswith(self.own_paths[who])

    def foreign(self, who: str, model) -> QuerySet:
        """Records of `model` whose node lies outside everything `who` is assigned to."""
        field = self.scope_field(model)
        lookup = f"{field}__path__startswith" if field else "path__startswith"
        mine = Q()
        for path in self.own_paths[who]:
            mine |= Q(**{lookup: path})
        return (
            model._default_manager.filter(**{f"{field}__isnull": False} if field else {})
            .exclude(mine)
            .order_by("pk")
        )

    def foreign_pks(self, who: str, model) -> frozenset:
        if self.scope_field(model) is None:
            return frozenset()
        key = (who, model._meta.label)
        if key not in self._foreign:
            self._foreign[key] = frozenset(obj.pk for obj in self.foreign(who, model).iterator())
        return self._foreign[key]

    def foreign_object(self, who: str, model):
        """A record of `model` the outsider must not reach: one in grid A where there is one, else any."""
        if model._meta.label in GLOBAL_MODELS:
            return None
        if self.scope_field(model) is None:
            return model._default_manager.order_by("pk").first()  # superuser-only data
        field = self.scope_field(model)
        lookup = f"{field}__path__startswith" if field else "path__startswith"
        records = self.foreign(who, model)
        return (
            records.filter(**{lookup: self.grid_a.path}).first()
            or records.filter(**{lookup: self.beihai.path}).first()
            or records.first()
        )

    def foreign_node(self, who: str) -> GridNode:
        return self.grid_a if who.startswith("bhxc_") else self.beihai

    def client(self, who: str) -> Client:
        return self.clients[who]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = World()
        # Fire the deferred constraint checks of the build now, not again at every test's teardown.
        connection.check_constraints()
        yield world
        transaction.set_rollback(True)


# Requests and what a response may not show ---------------------------------------------------


class _Undo(Exception):
    pass


REDIRECTS = {301, 302, 303, 307, 308}


def _safe_landing(location: str) -> bool:
    """A redirect to the login page or the admin index shows nothing of any record."""
    path = location.split("?")[0]
    return path == "/admin/" or path.startswith(("/accounts/login/", "/admin/login/"))


def _call(client: Client, method: str, url: str, inspect):
    """One request in a savepoint that is always rolled back: no probe changes what the next one
    sees, and a database error in a view cannot poison the rest of the run. GET redirects are
    followed (up to three) unless they go to the login page or the admin index.
    Returns the first response, the last one, and what `inspect` found in the last one."""
    box = {}
    try:
        with transaction.atomic():
            if method == "get":
                first = client.get(url)
            elif method == "post":
                first = client.post(url, {})
            else:
                first = client.generic(method.upper(), url, "{}", content_type="application/json")
            last, hops = first, 0
            while method == "get" and last.status_code in REDIRECTS and hops < 3:
                location = last["Location"]
                if _safe_landing(location) or not location.startswith("/"):
                    break
                last, hops = client.get(location), hops + 1
            box["result"] = first, last, inspect(last)
            raise _Undo
    except _Undo:
        pass
    return box["result"]


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    kind = response.get("Content-Type", "")
    if "json" in kind:
        try:
            return json.dumps(json.loads(response.content), ensure_ascii=False)
        except ValueError:
            return response.content.decode(errors="replace")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if cell
        )
    if kind.startswith("text/") or "javascript" in kind:
        return response.content.decode(errors="replace")
    return ""


SKIP_CONTEXT = {"user", "request", "perms", "view", "messages", "csrf_token", "DEFAULT_MESSAGE_LEVELS"}


def _walk_context(value, depth: int = 0):
    """Model instances and forms reachable from a context value (not through attributes)."""
    if isinstance(value, Model | BaseForm):
        yield value
    elif isinstance(value, AdminForm):
        yield value.form
    elif depth < 3:
        if isinstance(value, QuerySet):
            yield from value
        elif isinstance(value, dict):
            for inner in value.values():
                yield from _walk_context(inner, depth + 1)
        elif isinstance(value, list | tuple | set | Page):
            for inner in value:
                yield from _walk_context(inner, depth + 1)


def _context_items(response):
    contexts = response.context
    if contexts is None:
        return
    seen = set()  # the same objects recur in the contexts of included templates
    for context in contexts if isinstance(contexts, ContextList) else [contexts]:
        for key, value in context.flatten().items():
            if key in SKIP_CONTEXT or id(value) in seen:
                continue
            seen.add(id(value))
            for item in _walk_context(value):
                if id(item) not in seen:
                    seen.add(id(item))
                    yield item


def _json_rows(payload):
    if isinstance(payload, dict) and isinstance(payload.get("results"), list):
        return payload["results"]
    if isinstance(payload, list):
        return payload
    return [payload] if isinstance(payload, dict) else []


def _grouped(what: str, pairs) -> list[str]:
    """One line per model: `what` foreign app.Model [pks]."""
    groups: dict[str, list] = {}
    for label, pk in pairs:
        groups.setdefault(label, []).append(pk)
    return [f"{what} foreign {label} {sorted(set(pks))[:10]}" for label, pks in groups.items()]


def _json_leaks(response, world: World, who: str, model) -> list[str]:
    try:
        payload = json.loads(response.content)
    except ValueError:
        return []
    leaked = []
    for row in _json_rows(payload):
        if not isinstance(row, dict):
            continue
        refs = [(model, row[key]) for key in ID_KEYS if key in row]
        if not refs:  # rows of another model, e.g. the households due a visit
            for key, value in row.items():
                field = next((f for f in model._meta.get_fields() if f.name == key), None)
                if field is not None and field.is_relation and field.related_model is not None:
                    refs.append((field.related_model, value))
        for target, value in refs:
            if str(value).isdigit() and int(value) in world.foreign_pks(who, target):
                leaked.append((target._meta.label, int(value)))
    return _grouped("JSON lists", leaked)


def _changelist_leaks(changelist, world: World, who: str, model) -> list[str]:
    found = []
    if model is not None:
        leaked = sorted({obj.pk for obj in changelist.result_list} & world.foreign_pks(who, model))
        if leaked:
            found.append(f"changelist lists foreign {model._meta.label} {leaked[:10]}")
    for spec in changelist.filter_specs:
        field = getattr(spec, "field", None)
        related = GridNode if isinstance(spec, SubtreeListFilter) else getattr(field, "related_model", None)
        choices = getattr(spec, "lookup_choices", None)
        if related is None or not choices:
            continue
        leaked = sorted({choice[0] for choice in choices} & world.foreign_pks(who, related))
        if leaked:
            found.append(
                f"changelist filter {spec.title!s} offers foreign {related._meta.label} {leaked[:10]}"
            )
    return found


def _form_leaks(form, world: World, who: str) -> list[str]:
    found = []
    for name, field in form.fields.items():
        queryset = getattr(field, "queryset", None)
        if queryset is None or world.scope_field(queryset.model) is None:
            continue
        leaked = sorted(set(queryset.values_list("pk", flat=True)) & world.foreign_pks(who, queryset.model))
        if leaked:
            found.append(f"form field {name!r} offers foreign {queryset.model._meta.label} {leaked[:10]}")
    return found


def _leaks(response, world: World, who: str, model=None) -> list[str]:
    """What of the foreign records this response shows or offers."""
    text = _text(response)
    found = [f"shows {marker!r}" for marker in world.markers[who] if marker in text]
    me, held = world.users[who].pk, []
    for item in _context_items(response):
        if isinstance(item, BaseForm):
            found += _form_leaks(item, world, who)
        elif not (isinstance(item, User) and item.pk == me) and world.outside(who, world.scope_path(item)):
            held.append((item._meta.label, item.pk))
    found += _grouped("page context holds", held)
    context = response.context
    if context is not None and "cl" in context:
        found += _changelist_leaks(context["cl"], world, who, model)
    if model is not None and "json" in response.get("Content-Type", ""):
        found += _json_leaks(response, world, who, model)
    return list(dict.fromkeys(found))


def _fill(route: Route, values: dict) -> str:
    return "/" + route.template % {name: values.get(name, FIXED_PARAMS.get(name)) for name in route.params}


def _crash(response, what: str) -> list[str]:
    if response.status_code < 500:
        return []
    error = getattr(response, "exc_info", None)
    cause = f" ({error[0].__name__}: {error[1]})" if error else ""
    return [f"{what} answered {response.status_code}{cause}"]


# Probes ------------------------------------------------------------------------------------------


def _list_queries(world: World, who: str, route: Route, model) -> list[str]:
    """The plain list, then filters that name foreign things (a node, a resident's name)."""
    node = world.foreign_node(who).pk
    if route.name.startswith("admin:"):
        if route.name.endswith("_add"):
            return [""]
        model_admin = admin.site._registry.get(model)
        subtree = model_admin is not None and SubtreeListFilter in model_admin.list_filter
        return ["", *([f"subtree={node}"] if subtree else [])]
    if getattr(route.callback, "actions", None) is not None:
        return ["page_size=500", f"node={node}&subtree={node}&page_size=500"]
    queries = ["", urlencode({"node": node, "q": world.register.elder.name})]
    if route.name == "open311-requests" and not who.startswith("bhxc_"):
        queries.append(f"api_key={world.other_key}")  # the Open311 key of the caller's own community
    return queries


def _probe_list(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    client = world.client(who)
    model = apps.get_model(plan.model) if plan.model else None
    url = _fill(route, {})
    problems = []
    for query in _list_queries(world, who, route, model) if "get" in plan.methods else []:
        target = f"{url}?{query}" if query else url
        first, last, found = _call(client, "get", target, lambda r, m=model: _leaks(r, world, who, m))
        problems += _crash(first, f"GET {target}") + _crash(last, f"GET {target} (after redirects)")
        problems += [f"GET {target}: {leak}" for leak in found]
    if plan.list_posts and who == CRASH_PROBER:
        first, _last, found = _call(client, "post", url, lambda r, m=model: _leaks(r, world, who, m))
        problems += _crash(first, f"POST {url}")
        if getattr(route.callback, "actions", None) is not None and 200 <= first.status_code < 300:
            problems.append(f"POST {url} with an empty body answered {first.status_code}")
        problems += [f"POST {url}: {leak}" for leak in found]
    return problems


def _refusal(first, last, url: str, method: str, obj) -> list[str]:
    """Problems unless the answer to a request for a foreign record is a refusal."""
    status = first.status_code
    if status in REFUSED or status >= 500:
        return []
    if status in REDIRECTS:
        location = first["Location"]
        if _safe_landing(location):
            return []
        if method != "get":
            return [f"{method.upper()} {url} redirected to {location!r}"]
        context = last.context
        if 200 <= last.status_code < 300 and context is not None and context.get("original") == obj:
            return [f"GET {url} redirected to {location!r}, which shows the record"]
        return []
    return [f"{method.upper()} {url} answered {status} for a foreign record"]


def _probe_detail(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    client = world.client(who)
    model = apps.get_model(plan.model)
    if model._meta.label in GLOBAL_MODELS:  # no owner to refuse; only no crash
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            return []
        url = _fill(route, dict.fromkeys(OBJECT_PARAMS, obj.pk))
        first, last, _found = _call(client, "get", url, lambda r: [])
        return _crash(first, f"GET {url}") + _crash(last, f"GET {url} (after redirects)")
    obj = world.foreign_object(who, model)
    if obj is None:
        return [f"no record of {model._meta.label} outside {who}'s area to probe {route.label} with"]
    url = _fill(route, dict.fromkeys(OBJECT_PARAMS, obj.pk))
    problems = []
    for method in plan.methods:
        if method in ("head", "options"):
            continue
        first, last, found = _call(client, method, url, lambda r: _leaks(r, world, who, model))
        problems += _crash(first, f"{method.upper()} {url}")
        problems += _crash(last, f"{method.upper()} {url} (after redirects)") if last is not first else []
        problems += _refusal(first, last, url, method, obj)
        problems += [f"{method.upper()} {url}: {leak}" for leak in found]
    return problems


def _probe_node_table(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    """A per-node table (`?node=`) named by the URL: a foreign node is refused."""
    problems = []
    for name in route.callback.cls.lookup_value_regex.split("|"):
        url = f"{_fill(route, {'pk': name})}?node={world.foreign_node(who).pk}"
        first, last, found = _call(world.client(who), "get", url, lambda r: _leaks(r, world, who))
        problems += _crash(first, f"GET {url}") + _refusal(first, last, url, "get", None)
        problems += [f"GET {url}: {leak}" for leak in found]
    return problems


def _probe_autocomplete(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    """The admin's autocomplete answers for every autocomplete field of every ModelAdmin."""
    problems = []
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            related = model._meta.get_field(field_name).related_model
            url = (
                f"{_fill(route, {})}?app_label={model._meta.app_label}"
                f"&model_name={model._meta.model_name}&field_name={field_name}&term="
            )
            first, _last, found = _call(
                world.client(who), "get", url, lambda r, m=related: _leaks(r, world, who, m)
            )
            problems += _crash(first, f"GET {url}") + [f"GET {url}: {leak}" for leak in found]
    return problems


def _probe_app_list(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    problems = []
    for label in sorted({model._meta.app_label for model in admin.site._registry}):
        url = _fill(route, {"app_label": label})
        first, _last, found = _call(world.client(who), "get", url, lambda r: _leaks(r, world, who))
        problems += _crash(first, f"GET {url}") + [f"GET {url}: {leak}" for leak in found]
    return problems


def _probe_view_on_site(world: World, who: str, route: Route, plan: Plan) -> list[str]:
    """The admin's "view on site" redirect, for a foreign record of every registered model."""
    problems = []
    for model in admin.site._registry:
        obj = world.foreign_object(who, model)
        if obj is None:
            continue
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        url = _fill(route, {"content_type_id": content_type.pk, "object_id": obj.pk})
        first, last, found = _call(world.client(who), "get", url, lambda r, m=model: _leaks(r, world, who, m))
        problems += _crash(first, f"GET {url}") + _refusal(first, last, url, "get", obj)
        problems += [f"GET {url}: {leak}" for leak in found]
    return problems


PROBES = {
    "list": _probe_list,
    "detail": _probe_detail,
    "node-table": _probe_node_table,
    "autocomplete": _probe_autocomplete,
    "app-list": _probe_app_list,
    "view-on-site": _probe_view_on_site,
}


# Tests -------------------------------------------------------------------------------------------


def test_every_route_is_checked_or_allow_listed():
    unknown = [f"{route.label} ({route.key})" for route, plan in PLANS.items() if plan is None]
    assert not unknown, (
        "Routes the scope matrix cannot check: name the model of their object id (PAGE_OBJECT_MODELS) "
        "or, if public by design, add them to PUBLIC_BY_DESIGN with the reason:\n  " + "\n  ".join(unknown)
    )


def test_allow_lists_name_real_routes_and_models():
    keys = {route.key for route in ROUTES}
    assert not set(PUBLIC_BY_DESIGN) - keys, "stale PUBLIC_BY_DESIGN entries"
    assert not set(PAGE_OBJECT_MODELS) - keys, "stale PAGE_OBJECT_MODELS entries"
    for label in [*GLOBAL_MODELS, *OWNED_VIA, *PAGE_OBJECT_MODELS.values(), *PARAM_MODELS.values()]:
        apps.get_model(label)
    for label in GLOBAL_MODELS:
        assert getattr(apps.get_model(label), "SCOPE_NODE_FIELD", None) is None, f"{label} is scoped now"


def test_discovery_reaches_every_admin_and_api_registration():
    """The walk found every ModelAdmin's changelist and change page and every router registration."""
    from config.api_router import router

    names = {route.name for route in CHECKED}
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert {f"{prefix}_changelist", f"{prefix}_change"} <= names, prefix
    for _prefix, _viewset, basename in router.registry:
        assert f"{basename}-list" in names or f"{basename}-detail" in names, basename


def test_outsiders_still_see_their_own_area(world):
    """The matrix is not vacuous: outsiders read their own records through the same routes."""
    c002 = world.client("c002_secretary")
    households = c002.get("/api/v1/households/?page_size=500").json()["results"]
    assert world.register.home_c.pk in {row["id"] for row in households}
    neighbour = world.client("bhxc_g2_a")
    households = neighbour.get("/api/v1/households/?page_size=500").json()["results"]
    assert world.register.home_b.pk in {row["id"] for row in households}
    changelist = neighbour.get("/admin/residents/household/")
    assert world.register.home_b.pk in {h.pk for h in changelist.context["cl"].result_list}
    assert neighbour.get(f"/m/households/{world.register.home_b.pk}/").status_code == 200


@pytest.mark.parametrize("route", CHECKED, ids=lambda route: route.label)
def test_outsiders_get_nothing(world, route):
    plan = PLANS[route]
    # A format-suffix twin (`.json`) runs the same view: one outsider is enough to see it answer.
    outsiders = list(OUTSIDERS)[:1] if "format" in route.params else list(OUTSIDERS)
    problems = []
    for who in outsiders:
        problems += [f"[{who}: {OUTSIDERS[who]}] {p}" for p in PROBES[plan.kind](world, who, route, plan)]
    assert not problems, "\n".join(problems)

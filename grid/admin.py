from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from grid import services
from grid.admin_scope import ArchivedListFilter, ScopedAdminMixin, SubtreeListFilter, adopt
from grid.models import (
    Assignment,
    CoBuildingUnit,
    GridNode,
    PartyMembership,
    PartyOrganization,
    User,
    WorkerHeartbeat,
)


def _indented(obj, depth: int, text: str):
    return format_html('<span style="padding-left:{}em">{}</span>', (depth - 1) * 1.5, text)


def _run_service(request, callable_, **kwargs):
    """Run a service from an admin action; a refusal becomes a message, never a 500."""
    try:
        return callable_(**kwargs), True
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return None, False


class GeoJSONField(forms.JSONField):
    """A JSON field that shows an empty box, not "null", when there is no geometry yet."""

    def prepare_value(self, value):
        return "" if value is None else super().prepare_value(value)


class GridNodeForm(forms.ModelForm):
    geometry = GeoJSONField(
        label=_("geometry"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=GridNode._meta.get_field("geometry").help_text,
    )

    class Meta:
        model = GridNode
        fields = ["parent", "level", "code", "name", "geometry"]

    # Set per request by the admin: only a superuser starts a new tree (a street of its own).
    may_create_root = False

    def clean(self):
        cleaned = super().clean()
        parent = cleaned.get("parent")
        if parent is None and "parent" not in self.errors:
            if self.instance.pk and self.instance.parent_id:
                self.add_error("parent", _("Choose the node to move it under."))
                return cleaned
            if not self.instance.pk and not self.may_create_root:
                self.add_error("parent", ROOT_REFUSED)
                return cleaned
        level = cleaned.get("level") or self.instance.level
        if level:
            try:
                services.validate_node_placement(
                    parent=parent, level=level, node=self.instance if self.instance.pk else None
                )
            except ValidationError as error:
                # The level is read-only once the node exists: its error goes with the parent.
                for field, problems in error.message_dict.items():
                    self.add_error(field if field in self.fields else "parent", problems)
        return cleaned


ROOT_REFUSED = _("Choose the parent node: only a system administrator starts a new street.")


@admin.register(GridNode)
class GridNodeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = GridNodeForm
    list_display = ["indented_name", "code", "level", "children", "active"]
    list_filter = ["level", SubtreeListFilter, ArchivedListFilter]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent"]
    ordering = ["path"]
    list_per_page = 100
    actions = ["archive_nodes", "restore_nodes"]

    def get_readonly_fields(self, request, obj=None):
        # The code is in the QR codes printed for the node (`/r/<code>/`): it never changes.
        return ["level", "code"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.may_create_root = request.user.is_superuser
        return form

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return _indented(obj, obj.depth, obj.name)

    @admin.display(description=_("children"), ordering="numchild")
    def children(self, obj):
        if not obj.numchild:
            return 0
        url = reverse("admin:grid_gridnode_changelist")
        return format_html('<a href="{}?subtree={}">{}</a>', url, obj.pk, obj.numchild)

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj):
        return obj.archived_at is None

    def save_model(self, request, obj, form, change):
        if not change:
            node = services.node_create(
                parent=obj.parent, level=obj.level, code=obj.code, name=obj.name, geometry=obj.geometry
            )
            for field in ("pk", "path", "depth", "numchild"):
                setattr(obj, field, getattr(node, field))
            return
        changes = {
            field: getattr(obj, field) for field in ("name", "code", "geometry") if field in form.changed_data
        }
        if changes:
            services.node_update(node=obj, **changes)
        if "parent" in form.changed_data and obj.parent is not None:
            moved = services.node_move(node=obj, new_parent=obj.parent)
            obj.path, obj.depth = moved.path, moved.depth

    def delete_model(self, request, obj):
        result, ok = _run_service(request, services.node_remove, node=obj)
        if ok and result == "archived":
            messages.warning(request, _("%(node)s has history and was archived instead.") % {"node": obj})

    def delete_queryset(self, request, queryset):
        for node in queryset.order_by("-depth"):
            self.delete_model(request, node)

    @admin.action(description=_("Archive the selected nodes and their subtrees"), permissions=["change"])
    def archive_nodes(self, request, queryset):
        count = 0
        for node in queryset.order_by("depth"):
            archived, _ok = _run_service(request, services.node_archive, node=node)
            count += archived or 0
        self.message_user(request, ngettext("%d node archived.", "%d nodes archived.", count) % count)

    @admin.action(description=_("Restore the selected nodes and their subtrees"), permissions=["change"])
    def restore_nodes(self, request, queryset):
        count = 0
        for node in queryset.order_by("depth"):
            restored, _ok = _run_service(request, services.node_restore, node=node)
            count += restored or 0
        self.message_user(request, ngettext("%d node restored.", "%d nodes restored.", count) % count)


class PartyOrganizationForm(forms.ModelForm):
    class Meta:
        model = PartyOrganization
        fields = ["parent", "level", "name", "node", "secretary_name", "established_on"]

    def clean(self):
        cleaned = super().clean()
        level = cleaned.get("level") or self.instance.level
        node = cleaned.get("node")
        if level and node:
            parent = cleaned.get("parent") if "parent" in cleaned else self.instance.parent
            services.validate_party_placement(parent=parent, level=level, node=node)
        return cleaned


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = PartyOrganizationForm
    list_display = ["indented_name", "level", "node", "secretary_name", "members", "active"]
    list_filter = ["level", SubtreeListFilter, ArchivedListFilter]
    search_fields = ["name", "secretary_name"]
    autocomplete_fields = ["parent", "node"]
    ordering = ["path"]
    list_per_page = 100
    list_select_related = ["node"]
    actions = ["archive_organizations"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("memberships", filter=Q(memberships__left_on__isnull=True)))
            .order_by("path")
        )

    def get_readonly_fields(self, request, obj=None):
        return ["parent", "level"] if obj is not None else []

    @admin.display(description=_("name"), ordering="path")
    def indented_name(self, obj):
        return _indented(obj, obj.depth, obj.name)

    @admin.display(description=_("members"), ordering="member_count")
    def members(self, obj):
        url = reverse("admin:grid_partymembership_changelist")
        return format_html('<a href="{}?organization__id__exact={}">{}</a>', url, obj.pk, obj.member_count)

    @admin.display(description=_("active"), boolean=True)
    def active(self, obj):
        return obj.archived_at is None

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.party_organization_create(
                parent=obj.parent,
                level=obj.level,
                name=obj.name,
                node=obj.node,
                secretary_name=obj.secretary_name,
                established_on=obj.established_on,
            )
            for field in ("pk", "path", "depth", "numchild"):
                setattr(obj, field, getattr(created, field))
            return
        changes = {
            f: getattr(obj, f)
            for f in ("name", "node", "secretary_name", "established_on")
            if f in form.changed_data
        }
        if changes:
            services.party_organization_update(organization=obj, **changes)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Archive the selected organizations"), permissions=["change"])
    def archive_organizations(self, request, queryset):
        count = sum(services.party_organization_archive(organization=org) for org in queryset)
        self.message_user(
            request, ngettext("%d organization archived.", "%d organizations archived.", count) % count
        )


@admin.register(PartyMembership)
class PartyMembershipAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "gender", "kind", "organization", "work_unit", "joined_on", "left_on"]
    list_filter = ["kind", SubtreeListFilter, ("organization", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization", "work_unit", "user"]
    list_select_related = ["organization", "work_unit"]
    fields = [
        "organization",
        "name",
        "gender",
        "kind",
        "user",
        "work_unit",
        "joined_on",
        "registered_on",
        "left_on",
    ]

    def save_model(self, request, obj, form, change):
        values = {field: getattr(obj, field) for field in self.fields}
        if not change:
            values.pop("left_on")
            adopt(obj, services.party_membership_create(**values))
            return
        services.party_membership_update(
            membership=obj, **{f: values[f] for f in form.changed_data if f in values}
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CoBuildingUnit)
class CoBuildingUnitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "community",
        "contact_name",
        "agreement_signed_on",
        "agreement_ends_on",
        "in_force",
        "party_members",
    ]
    list_filter = ["kind", SubtreeListFilter, ArchivedListFilter]
    search_fields = ["name", "contact_name", "address"]
    autocomplete_fields = ["community"]
    list_select_related = ["community"]
    fields = [
        "name",
        "kind",
        "community",
        "address",
        "contact_name",
        "contact_phone",
        "agreement_signed_on",
        "agreement_ends_on",
        "committee_member",
        "offer_summary",
    ]
    actions = ["archive_units"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("party_members", filter=Q(party_members__left_on__isnull=True)))
            .order_by("community__path", "name")
        )

    @admin.display(description=_("agreement in force"), boolean=True)
    def in_force(self, obj):
        return obj.archived_at is None and obj.agreement_active

    @admin.display(description=_("in-service party members"), ordering="member_count")
    def party_members(self, obj):
        return obj.member_count

    def save_model(self, request, obj, form, change):
        values = {field: getattr(obj, field) for field in self.fields}
        if not change:
            adopt(obj, services.unit_create(**values))
            return
        services.unit_update(unit=obj, **{f: values[f] for f in form.changed_data if f in values})

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Archive the selected units"), permissions=["change"])
    def archive_units(self, request, queryset):
        for unit in queryset:
            services.unit_archive(unit=unit)
        self.message_user(request, _("Archived."))


class CurrentAssignmentFilter(admin.SimpleListFilter):
    title = _("current")
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", _("Current")), ("no", _("Ended"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(ended_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(ended_on__isnull=False)
        return queryset


class AssignmentForm(forms.ModelForm):
    class Meta:
        model = Assignment
        fields = ["user", "node", "role", "is_primary", "started_on", "ended_on"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and cleaned.get("ended_on"):
            raise ValidationError({"ended_on": _("A new assignment starts open; end it later.")})
        return cleaned

    def validate_constraints(self):
        # The service checks the same rules inside a lock and says which one clashed.
        return


@admin.register(Assignment)
class AssignmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = AssignmentForm
    list_display = ["user", "node", "role", "is_primary", "started_on", "ended_on"]
    list_filter = ["role", "is_primary", CurrentAssignmentFilter, SubtreeListFilter]
    search_fields = ["user__username", "user__name", "node__name", "node__code"]
    autocomplete_fields = ["user", "node"]
    list_select_related = ["user", "node"]
    actions = ["end_assignments", "make_primary"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "node", "role", "is_primary", "started_on"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            adopt(
                obj,
                services.assignment_create(
                    user=obj.user,
                    node=obj.node,
                    role=obj.role,
                    is_primary=obj.is_primary,
                    started_on=obj.started_on,
                ),
            )
            return
        if "ended_on" in form.changed_data and obj.ended_on:
            services.assignment_end(assignment=Assignment.objects.get(pk=obj.pk), ended_on=obj.ended_on)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("End the selected assignments today"), permissions=["change"])
    def end_assignments(self, request, queryset):
        for assignment in queryset.filter(ended_on__isnull=True):
            _run_service(request, services.assignment_end, assignment=assignment)
        self.message_user(request, _("Done."))

    @admin.action(description=_("Make the selected worker the A (primary) post"), permissions=["change"])
    def make_primary(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one assignment."), level=messages.ERROR)
            return
        _result, ok = _run_service(request, services.assignment_set_primary, assignment=queryset.get())
        if ok:
            self.message_user(request, _("Done."))


class AssignmentInline(admin.TabularInline):
    model = Assignment
    fields = ["node", "role", "is_primary", "started_on", "ended_on"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("node")


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    list_display = ["username", "name", "phone", "home_node", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", SubtreeListFilter]
    search_fields = ["username", "name", "phone"]
    autocomplete_fields = ["home_node"]
    list_select_related = ["home_node"]
    inlines = [AssignmentInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["name", "phone", "email", "home_node"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "name", "home_node", "password1", "password2"]}),
    ]

    def get_inlines(self, request, obj):
        # Assignments are made on their own page once the account exists.
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser or obj is None:
            return fieldsets
        # Office staff manage accounts of their community, never privileges.
        return [
            (
                title,
                {
                    **options,
                    "fields": [
                        f
                        for f in options["fields"]
                        if f not in ("is_superuser", "groups", "user_permissions", "is_staff")
                    ],
                },
            )
            for title, options in fieldsets
        ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if not request.user.is_superuser and "home_node" in form.base_fields:
            form.base_fields["home_node"].required = True
        return form


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

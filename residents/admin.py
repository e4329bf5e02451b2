from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.db.models.constants import LOOKUP_SEP
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grid.admin_history import HIDDEN, HistoryAdmin
from grid.admin_scope import ScopedAdminMixin, SubtreeListFilter, adopt
from grid.i18n import recorded_text
from grid.scope import object_in_scope, path_checker
from residents import identity, selectors, services
from residents.choices import SENSITIVE_TAGS, AccessAction, AgeBand, CareTagKind, Colour, ResidentStatus
from residents.models import AccessLog, CareTag, ColourMark, Household, ImportJob, Resident


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ["name", "relation", "gender", "birth_date", "id_number_masked", "status"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


def _colour_action(colour: str, label):
    @admin.action(description=label, permissions=["change"])
    def mark(modeladmin, request, queryset):
        for household in queryset:
            services.colour_set(
                household=household,
                colour=colour,
                reason=recorded_text(_("Set in bulk from the admin")),
                actor=request.user,
            )
        modeladmin.message_user(request, _("Colour marks updated."))

    mark.__name__ = f"mark_{colour or 'none'}"
    return mark


@admin.register(Household)
class HouseholdAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ["address_display", "head", "member_count", "housing_kind", "colour_badge"]
    list_filter = [SubtreeListFilter, "colour", "housing_kind"]
    search_fields = ["room", "node__name", "node__code", "head__name", "members__name"]
    autocomplete_fields = ["node"]
    fields = ["node", "room", "housing_kind", "notes", "colour", "head"]
    readonly_fields = ["colour", "head"]
    inlines = [ResidentInline]
    list_per_page = 50
    actions = [
        _colour_action(Colour.RED, _("Mark red (close attention)")),
        _colour_action(Colour.YELLOW, _("Mark yellow (regular attention)")),
        _colour_action(Colour.BLUE, _("Mark blue (routine)")),
        _colour_action("", _("Clear the colour mark")),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("node", "node__parent", "head")
            .annotate(member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
            .order_by("node__path", "room")
        )

    @admin.display(description=_("address"), ordering="node__path")
    def address_display(self, obj):
        return obj.address

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    @admin.display(description=_("colour mark"), ordering="colour")
    def colour_badge(self, obj):
        return _badge(obj.colour, obj.get_colour_display())

    def save_model(self, request, obj, form, change):
        values = {
            f: form.cleaned_data[f]
            for f in ("node", "room", "housing_kind", "notes")
            if f in form.cleaned_data
        }
        if not change:
            adopt(obj, services.household_create(**values))
        else:
            services.household_update(
                household=obj, **{f: values[f] for f in form.changed_data if f in values}
            )

    def has_delete_permission(self, request, obj=None):
        return False


def _badge(colour: str, label: str):
    if not colour:
        return "–"
    palette = {"red": "#d32f2f", "yellow": "#f9a825", "blue": "#1976d2"}
    return format_html('<span style="color:{}">●</span> {}', palette[colour], label)


class ResidentForm(forms.ModelForm):
    id_number = forms.CharField(
        label=_("ID number"),
        required=False,
        max_length=30,
        help_text=_("18 characters. Leave empty to keep the number on record (shown masked above)."),
    )
    phone_input = forms.CharField(label=_("phone"), required=False, max_length=30)

    class Meta:
        model = Resident
        fields = [
            "household",
            "name",
            "relation",
            "gender",
            "birth_date",
            "residence_kind",
            "ethnicity",
            "political_status",
            "party_membership",
            "health_notes",
            "notes",
        ]

    def __init__(self, *args, sensitive_ok: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("gender", "birth_date"):
            if name in self.fields:
                self.fields[name].required = False
        if self.instance.pk and "phone_input" in self.fields:
            self.fields["phone_input"].initial = identity.mask_phone(self.instance.phone)
            self.fields["phone_input"].help_text = _("Shown masked; type a new number to change it.")
        if not sensitive_ok:
            self.fields.pop("health_notes", None)

    def clean(self):
        cleaned = super().clean()
        number = cleaned.get("id_number", "").strip()
        if number or not self.instance.pk:
            try:
                services.check_identity(
                    id_number=number, birth_date=cleaned.get("birth_date"), gender=cleaned.get("gender")
                )
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages_)
        phone = cleaned.get("phone_input", "")
        if phone and "*" not in phone:
            try:
                services.clean_phone(phone)
            except ValidationError as error:
                self.add_error("phone_input", error.message_dict["phone"])
        return cleaned


CARE_TAG_CHANGES = 200  # the newest changes to a resident's care groups on the history page


class CareTagInlineForm(forms.ModelForm):
    class Meta:
        model = CareTag
        fields = ["kind", "grade", "since", "until", "note"]


class CareTagInline(admin.TabularInline):
    model = CareTag
    form = CareTagInlineForm
    extra = 0

    def _sensitive_ok(self, request, obj) -> bool:
        return obj is None or object_in_scope(request.user, obj, "residents.view_sensitive_resident")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.has_perm("residents.view_sensitive_resident"):
            queryset = queryset.exclude(kind__in=SENSITIVE_TAGS)
        return queryset

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if not self._sensitive_ok(request, obj):
            field = formset.form.base_fields["kind"]
            field.choices = [c for c in field.choices if c[0] not in SENSITIVE_TAGS]
        return formset

    def has_delete_permission(self, request, obj=None):
        return False


class AgeBandFilter(admin.SimpleListFilter):
    title = _("age band")
    parameter_name = "age_band"

    def lookups(self, request, model_admin):
        return AgeBand.choices

    def queryset(self, request, queryset):
        if self.value() in AgeBand.values:
            return queryset.filter(selectors.age_band_condition(self.value()))
        return queryset


class CareTagFilter(admin.SimpleListFilter):
    title = _("care group")
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        sensitive = request.user.has_perm("residents.view_sensitive_resident")
        return [(k.value, k.label) for k in CareTagKind if sensitive or k.value not in SENSITIVE_TAGS]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in CareTagKind.values:
            return queryset
        if value in SENSITIVE_TAGS:
            from grid.scope import scope_queryset

            queryset = scope_queryset(queryset, request.user, permission="residents.view_sensitive_resident")
        return queryset.filter(care_tags__kind=value, care_tags__until__isnull=True).distinct()


@admin.register(Resident)
class ResidentAdmin(ScopedAdminMixin, HistoryAdmin):
    form = ResidentForm
    list_display = [
        "name",
        "gender",
        "age_display",
        "id_number_masked",
        "phone_display",
        "household_display",
        "residence_kind",
        "colour_badge",
        "status",
        "tags_display",
    ]
    list_filter = [
        SubtreeListFilter,
        CareTagFilter,
        AgeBandFilter,
        "colour",
        "residence_kind",
        "status",
        "gender",
    ]
    # The search box runs the register's one search rule (`get_search_results`); these fields
    # only make the box show.
    search_fields = ["name", "household__room", "household__node__name"]
    # Never filtered on in the address bar: a filter on a hidden field answers yes or no about it.
    PRIVATE_LOOKUPS = (
        "health_notes",
        "phone",
        "id_number_encrypted",
        "id_number_hash",
        "id_number_masked",
        "notes",
    )
    autocomplete_fields = ["household", "party_membership"]
    inlines = [CareTagInline]
    list_per_page = 50
    actions = ["mark_moved_out", "mark_deceased"]
    readonly_fields = ["id_number_masked", "colour", "status", "status_changed_on"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("household", "household__node", "household__node__parent")
            .prefetch_related(selectors.current_tags())
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = selectors.search_condition(term, request.user) | Q(
            household__node__name__contains=term[:50]
        )
        return queryset.filter(condition), False

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.split(LOOKUP_SEP)[0] in self.PRIVATE_LOOKUPS:
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_fieldsets(self, request, obj=None):
        main = [
            "household",
            "name",
            "relation",
            "gender",
            "birth_date",
            "id_number_masked",
            "id_number",
            "phone_input",
        ]
        more = ["residence_kind", "ethnicity", "political_status", "party_membership", "notes"]
        if self._sensitive_ok(request, obj):
            more.insert(-1, "health_notes")
        if obj is None:
            main.remove("id_number_masked")
        return [
            (None, {"fields": main}),
            (_("More"), {"fields": more}),
            (_("State"), {"fields": ["colour", "status", "status_changed_on"]}),
        ]

    def _sensitive_ok(self, request, obj) -> bool:
        if obj is None:
            return request.user.has_perm("residents.view_sensitive_resident")
        return object_in_scope(request.user, obj, "residents.view_sensitive_resident")

    def get_formset_kwargs(self, request, obj, inline, prefix):
        """The care groups inline shows sensitive groups only where the user may see them for
        this resident: a role held elsewhere (a grid worker of another grid) does not count."""
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if (
            isinstance(inline, CareTagInline)
            and obj is not None
            and obj.pk
            and not self._sensitive_ok(request, obj)
        ):
            kwargs["queryset"] = kwargs["queryset"].exclude(kind__in=SENSITIVE_TAGS)
        return kwargs

    def history_value(self, request, obj, field_name, value):
        if field_name == "phone" and value:
            return identity.mask_phone(value)
        if field_name == "health_notes" and not self._sensitive_ok(request, obj):
            return HIDDEN
        return value

    object_history_template = "admin/residents/resident/object_history.html"

    def history_extra_context(self, request, obj) -> dict:
        """The changes to the resident's care groups, newest first, in one query; sensitive groups
        (and their notes) only to a role that may see them. A tag that was ever of a sensitive
        group (its group changed in the form) is hidden in every version, before and after."""
        changes = CareTag.history.filter(resident_id=obj.pk).select_related("history_user")
        if not self._sensitive_ok(request, obj):
            ever_sensitive = CareTag.history.filter(resident_id=obj.pk, kind__in=SENSITIVE_TAGS).values("id")
            changes = changes.exclude(id__in=ever_sensitive)
        return {"care_tag_changes": list(changes.order_by("-history_date", "-history_id")[:CARE_TAG_CHANGES])}

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        resident = getattr(request, "history_object", None)
        if resident is not None and response.status_code == 200 and self._sensitive_ok(request, resident):
            # Past health notes are on the page: the view is logged like the change form's.
            services.access_log(
                user=request.user,
                residents=[resident],
                action=AccessAction.VIEW_SENSITIVE,
                fields="history",
                where=request.path,
            )
        return response

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        sensitive_ok = self._sensitive_ok(request, obj)

        class Form(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, sensitive_ok=sensitive_ok, **inner)

        return Form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        resident = self.get_object(request, object_id)
        if resident is not None and request.method == "GET" and self._sensitive_ok(request, resident):
            tags = list(resident.care_tags.filter(until__isnull=True))
            if services.has_sensitive_content(resident, tags):
                services.access_log(
                    user=request.user,
                    residents=[resident],
                    action=AccessAction.VIEW_SENSITIVE,
                    fields="care_tags,health_notes",
                    where=request.path,
                )
        extra_context = {**(extra_context or {}), "reveal_urls": self._reveal_urls(request, resident)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _reveal_urls(self, request, resident):
        if resident is None:
            return []
        urls = []
        if (
            object_in_scope(request.user, resident, "residents.reveal_id_resident")
            and resident.id_number_encrypted
        ):
            urls.append(
                (
                    reverse("admin:residents_resident_reveal", args=[resident.pk, "id_number"]),
                    _("Reveal ID number"),
                )
            )
        if object_in_scope(request.user, resident, "residents.reveal_phone_resident") and resident.phone:
            urls.append(
                (reverse("admin:residents_resident_reveal", args=[resident.pk, "phone"]), _("Reveal phone"))
            )
        return urls

    def get_urls(self):
        return [
            path(
                "<int:pk>/reveal/<str:field>/",
                self.admin_site.admin_view(self.reveal_view),
                name="residents_resident_reveal",
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request, pk, field):
        """Show a full ID number or phone once, to a role allowed to see it; always logged."""
        if request.method != "POST":
            return redirect("admin:residents_resident_change", pk)
        resident = get_object_or_404(self.get_queryset(request), pk=pk)
        permission = services.REVEAL_PERMISSIONS.get(field)
        if permission is None or not object_in_scope(request.user, resident, permission):
            raise PermissionDenied
        value = services.identity_reveal(
            resident=resident, user=request.user, field=field, where=request.path
        )
        messages.info(
            request,
            _("%(name)s: %(value)s (this view has been logged)") % {"name": resident.name, "value": value},
        )
        return redirect("admin:residents_resident_change", pk)

    @admin.display(description=_("age"), ordering="-birth_date")
    def age_display(self, obj):
        return obj.age

    @admin.display(description=_("phone"))
    def phone_display(self, obj):
        return identity.mask_phone(obj.phone)

    @admin.display(description=_("household"), ordering="household__node__path")
    def household_display(self, obj):
        return obj.household.address

    @admin.display(description=_("colour mark"), ordering="colour")
    def colour_badge(self, obj):
        return _badge(obj.colour, obj.get_colour_display())

    @admin.display(description=_("care groups"))
    def tags_display(self, obj):
        return "、".join(t.get_kind_display() for t in getattr(obj, "visible_tags", ()))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        allowed = path_checker(request.user, "residents.view_sensitive_resident")
        seen = []
        for resident in changelist.result_list:
            if allowed(resident.household.node.path):
                resident.visible_tags = resident.current_tags
                if any(t.kind in SENSITIVE_TAGS for t in resident.current_tags):
                    seen.append(resident)
            else:
                resident.visible_tags = [t for t in resident.current_tags if t.kind not in SENSITIVE_TAGS]
        services.access_log(
            user=request.user,
            residents=seen,
            action=AccessAction.VIEW_SENSITIVE,
            fields="care_tags",
            where=services.log_where(request),
        )
        return changelist

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        values = {
            f: data[f]
            for f in (
                "household",
                "name",
                "relation",
                "residence_kind",
                "ethnicity",
                "political_status",
                "party_membership",
                "notes",
            )
            if f in data
        }
        if "health_notes" in form.fields:
            values["health_notes"] = data.get("health_notes", "")
        number = data.get("id_number", "").strip()
        phone = data.get("phone_input", "")
        if not change:
            adopt(
                obj,
                services.resident_create(
                    id_number=number,
                    birth_date=data.get("birth_date"),
                    gender=data.get("gender") or "",
                    phone=phone,
                    **values,
                ),
            )
            obj._state.adding = False
            return
        changes = {f: values[f] for f in form.changed_data if f in values}
        for f in ("birth_date", "gender"):
            if f in form.changed_data and data.get(f):
                changes[f] = data[f]
        services.resident_update(
            resident=Resident.objects.get(pk=obj.pk),
            id_number=number or None,
            phone=phone if "phone_input" in form.changed_data and "*" not in phone else None,
            **changes,
        )

    def save_formset(self, request, form, formset, change):
        """Care tags go through the services; the formset is told what was saved, for the
        admin's change message."""
        resident = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.is_valid():
                continue
            data = inline_form.cleaned_data
            if inline_form.instance.pk is None:
                tag = services.care_tag_add(
                    resident=resident,
                    kind=data["kind"],
                    grade=data.get("grade"),
                    since=data.get("since"),
                    note=data.get("note", ""),
                )
                formset.new_objects.append(tag)
            else:
                changed = [f for f in ("grade", "since", "until", "note") if f in inline_form.changed_data]
                tag = services.care_tag_update(tag=inline_form.instance, **{f: data[f] for f in changed})
                formset.changed_objects.append((tag, changed))

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mark as moved out"), permissions=["change"])
    def mark_moved_out(self, request, queryset):
        for resident in queryset:
            services.resident_set_status(resident=resident, status=ResidentStatus.MOVED_OUT)
        self.message_user(request, _("Updated."))

    @admin.action(description=_("Mark as deceased"), permissions=["change"])
    def mark_deceased(self, request, queryset):
        for resident in queryset:
            services.resident_set_status(resident=resident, status=ResidentStatus.DECEASED)
        self.message_user(request, _("Updated."))


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ColourMark)
class ColourMarkAdmin(ReadOnlyAdmin):
    list_display = ["set_at", "household", "resident", "previous", "colour", "reason", "set_by"]
    list_filter = [SubtreeListFilter, "colour"]
    list_select_related = ["household__node__parent", "resident", "set_by"]
    search_fields = ["household__room", "household__node__name", "reason"]


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "action", "resident", "fields", "where"]
    list_filter = ["action", SubtreeListFilter]
    list_select_related = ["user", "resident"]
    search_fields = ["user__username", "user__name", "resident__name"]
    date_hierarchy = "at"


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "original_name",
        "scope_node",
        "created_by",
        "status",
        "total_rows",
        "created_count",
        "updated_count",
        "status_link",
    ]
    list_select_related = ["scope_node", "created_by"]
    list_filter = ["status"]

    @admin.display(description=_("details"))
    def status_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("residents:import-status", args=[obj.pk]), _("Open")
        )

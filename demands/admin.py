from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from demands import open311, services
from demands.choices import RatingSource
from demands.models import ApiClient, Ticket, TicketCategory, TicketEvent, TicketPhoto
from grid.admin_history import HistoryAdmin
from grid.admin_scope import ScopedAdminMixin, SubtreeListFilter, adopt, run_for_each
from grid.models import User
from residents.identity import mask_phone


@admin.register(TicketCategory)
class TicketCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "group", "response_hours", "resolution_hours", "is_active", "order"]
    list_editable = ["response_hours", "resolution_hours", "is_active", "order"]
    search_fields = ["name", "code"]

    def has_delete_permission(self, request, obj=None):
        return False


class TicketActionForm(ActionForm):
    note = forms.CharField(label=_("Note / reason"), required=False, max_length=2000)
    assignee = forms.CharField(label=_("Assign to (username)"), required=False, max_length=150)
    original = forms.CharField(label=_("Original ticket (tracking code)"), required=False, max_length=12)
    rating = forms.TypedChoiceField(
        label=_("Callback rating"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")],
    )


class EventInline(admin.TabularInline):
    model = TicketEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor", "actor_label", "assignee", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "assignee")


class PhotoInline(admin.TabularInline):
    model = TicketPhoto
    fields = ["preview", "event", "uploaded_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("photo"))
    def preview(self, obj):
        image, small = obj.image.url, obj.preview_url
        return format_html('<a href="{}"><img src="{}" style="height:80px"></a>', image, small)


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("On time"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_overdue=self.value() == "yes")
        return queryset


@admin.register(Ticket)
class TicketAdmin(ScopedAdminMixin, HistoryAdmin):
    """The staff queue: filter, dispatch, merge duplicates, record callbacks."""

    list_display = [
        "tracking_code",
        "category",
        "place",
        "status",
        "level",
        "assignee",
        "is_overdue",
        "created_at",
        "resolution_due",
        "rating",
    ]
    list_filter = ["status", "category", OverdueFilter, SubtreeListFilter, "source", "level"]
    search_fields = ["tracking_code", "description", "location_text", "node__name"]
    list_select_related = ["category", "node", "node__parent", "assignee"]
    readonly_fields = [
        "tracking_code",
        "status",
        "level",
        "assignee",
        "duplicate_of",
        "response_due",
        "resolution_due",
        "is_overdue",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "rating",
        "rating_comment",
        "rating_source",
        "rated_at",
        "reporter",
        "created_by",
        "created_at",
    ]
    fields = [
        "tracking_code",
        "category",
        "node",
        "source",
        "description",
        "location_text",
        "latitude",
        "longitude",
        "reporter_name",
        "reporter",
        "status",
        "level",
        "assignee",
        "duplicate_of",
        "response_due",
        "resolution_due",
        "is_overdue",
        "accepted_at",
        "resolved_at",
        "closed_at",
        "rating",
        "rating_comment",
        "rating_source",
        "rated_at",
        "created_by",
        "created_at",
    ]
    autocomplete_fields = ["node"]
    inlines = [EventInline, PhotoInline]
    action_form = TicketActionForm
    actions = ["dispatch", "reassign", "reject", "mark_duplicate", "close", "callback"]
    date_hierarchy = "created_at"
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["tracking_code", "reporter", "created_by", "created_at"]
        return [
            *self.readonly_fields,
            "category",
            "node",
            "source",
            "description",
            "location_text",
            "latitude",
            "longitude",
            "reporter_name",
        ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "category",
                "node",
                "source",
                "description",
                "location_text",
                "latitude",
                "longitude",
                "reporter_name",
            ]
        return self.fields

    @admin.display(description=_("place"), ordering="node__path")
    def place(self, obj):
        parent = obj.node.parent.name if obj.node.level == "unit" and obj.node.parent_id else ""
        return f"{parent}{obj.node.name}"

    @admin.display(description=_("reporter phone"))
    def reporter(self, obj):
        return mask_phone(obj.reporter_phone)

    def history_value(self, request, obj, field_name, value):
        # The full number is shown only by "reveal", which is logged.
        return mask_phone(value) if field_name == "reporter_phone" and value else value

    def save_model(self, request, obj, form, change):
        if change:
            return  # a ticket changes only through its actions
        data = form.cleaned_data
        adopt(
            obj,
            services.ticket_create(
                category=data["category"],
                node=data["node"],
                source=data["source"],
                description=data["description"],
                location_text=data.get("location_text", ""),
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
                reporter_name=data.get("reporter_name", ""),
                created_by=request.user,
            ),
        )

    def has_delete_permission(self, request, obj=None):
        return False

    def _each(self, request, queryset, call):
        run_for_each(self, request, queryset, call)

    def _note(self, request):
        return request.POST.get("note", "")

    @admin.action(
        description=_("Dispatch to the grid's A post (or B post, grid chief)"), permissions=["dispatch"]
    )
    def dispatch(self, request, queryset):
        self._each(request, queryset, lambda t: services.ticket_dispatch(ticket=t, actor=request.user))

    @admin.action(description=_("Assign to the user named below"), permissions=["dispatch"])
    def reassign(self, request, queryset):
        assignee = User.objects.filter(
            username=request.POST.get("assignee", "").strip(), is_active=True
        ).first()
        if assignee is None:
            self.message_user(request, _("Enter the username to assign to."), level=messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda t: services.ticket_assign(
                ticket=t, actor=request.user, assignee=assignee, note=self._note(request)
            ),
        )

    @admin.action(description=_("Reject (give the reason below)"), permissions=["dispatch"])
    def reject(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.ticket_reject(ticket=t, actor=request.user, note=self._note(request)),
        )

    @admin.action(description=_("Merge into the original ticket named below"), permissions=["dispatch"])
    def mark_duplicate(self, request, queryset):
        code = request.POST.get("original", "").strip().upper()
        original = self.get_queryset(request).filter(tracking_code=code).first()
        if original is None:
            self.message_user(
                request, _("Enter the tracking code of the original ticket."), level=messages.ERROR
            )
            return
        self._each(
            request,
            queryset,
            lambda t: services.ticket_mark_duplicate(
                ticket=t, actor=request.user, original=original, note=self._note(request)
            ),
        )

    @admin.action(description=_("Close resolved tickets"), permissions=["dispatch"])
    def close(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda t: services.ticket_close(ticket=t, actor=request.user, note=self._note(request)),
        )

    @admin.action(
        description=_("Record a phone callback (回访) with the rating below"), permissions=["dispatch"]
    )
    def callback(self, request, queryset):
        rating = request.POST.get("rating", "")
        if rating not in {"1", "2", "3", "4", "5"}:
            self.message_user(request, _("Choose the rating the resident gave."), level=messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda t: services.ticket_rate(
                ticket=t,
                rating=int(rating),
                comment=self._note(request),
                source=RatingSource.CALLBACK,
                actor=request.user,
            ),
        )

    def has_dispatch_permission(self, request):
        return request.user.has_perm("demands.dispatch_ticket")


class ApiClientForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["name", "node"]


@admin.register(ApiClient)
class ApiClientAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Keys for other systems (e.g. the 12345 hotline) to use Open311 within one subtree."""

    form = ApiClientForm
    list_display = ["name", "node", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["node", "created_by"]
    autocomplete_fields = ["node"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return (
            ["name", "node", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
            if obj
            else []
        )

    def save_model(self, request, obj, form, change):
        if change:
            return
        client, key = open311.issue_key(name=obj.name, node=obj.node, created_by=request.user)
        obj.pk = client.pk
        messages.warning(
            request,
            _("The key for %(name)s is %(key)s — copy it now; it is shown only once. Endpoint: %(url)s")
            % {
                "name": client.name,
                "key": key,
                "url": request.build_absolute_uri(
                    reverse("open311-discovery", kwargs={"response_format": "json"})
                ),
            },
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for client in queryset:
            open311.revoke_key(client=client)
        self.message_user(request, _("Revoked."))


# The lists, claims and deliberation have their own admin module.
from demands import list_admin  # noqa: E402, F401

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from grid import rollup
from grid.admin_scope import ScopedAdminMixin, SubtreeListFilter, adopt, run_for_each
from services import services
from services.assessment import assessment_compute, assessment_publish
from services.metrics import SERVICE_METRICS
from services.models import (
    Assessment,
    AssessmentRound,
    Delivery,
    EventKind,
    EventSeries,
    Indicator,
    Participation,
    PointsAccount,
    PointsEntry,
    PointsTransaction,
    Programme,
    Reward,
    ServiceEvent,
    Visit,
    VisitCadence,
)


class KeyHouseholdFilter(admin.SimpleListFilter):
    """Visits to red and yellow households (by their colour now), as the dashboard counts them."""

    title = _("household colour")
    parameter_name = "key"

    def lookups(self, request, model_admin):
        return [("1", _("Red and yellow households"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(household__colour__in=["red", "yellow"])
        return queryset


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(EventKind)
class EventKindAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "points_per_hour", "is_co_building"]
    list_editable = ["points_per_hour", "is_co_building"]


@admin.register(EventSeries)
class EventSeriesAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "node",
        "kind",
        "recurrence",
        "weekday",
        "day_of_month",
        "start_time",
        "starts_on",
        "ends_on",
    ]
    autocomplete_fields = ["node"]
    actions = ["generate"]

    @admin.action(description=_("Create the occurrences of the next 60 days"), permissions=["change"])
    def generate(self, request, queryset):
        until = timezone.localdate() + timezone.timedelta(days=60)
        made = sum(services.series_generate(series=series, until=until) for series in queryset)
        self.message_user(request, _("%(n)d events created.") % {"n": made})


class ParticipationInline(admin.TabularInline):
    model = Participation
    fields = ["name", "role", "hours", "checked_in_at", "user", "member"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventActionForm(ActionForm):
    reason = forms.CharField(label=_("Reason for cancelling"), required=False, max_length=200)


class CancelledFilter(admin.SimpleListFilter):
    title = _("held or cancelled")
    parameter_name = "cancelled"

    def lookups(self, request, model_admin):
        return [("no", _("Held")), ("yes", _("Cancelled"))]

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(cancelled_at__isnull=self.value() == "no")
        return queryset


@admin.register(ServiceEvent)
class ServiceEventAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "node",
        "starts_at",
        "organizer_kind",
        "people",
        "hours",
        "points_awarded_at",
        "state",
    ]
    list_filter = [CancelledFilter, "kind", "organizer_kind", SubtreeListFilter]
    search_fields = ["title", "place"]
    autocomplete_fields = ["node", "organizer_unit", "organizer_org", "beneficiaries"]
    readonly_fields = [
        "series",
        "checkin_code",
        "points_awarded_at",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
    ]
    exclude = ["created_by"]
    inlines = [ParticipationInline]
    date_hierarchy = "starts_at"
    action_form = EventActionForm
    actions = ["award", "cancel"]

    @admin.display(description=_("state"), ordering="cancelled_at")
    def state(self, obj):
        if obj.cancelled_at is None:
            return _("Held") if obj.starts_at <= timezone.now() else _("Planned")
        return format_html(
            '<span title="{}">{}</span>',
            obj.cancel_reason,
            _("Cancelled %(day)s") % {"day": timezone.localtime(obj.cancelled_at).strftime("%Y-%m-%d")},
        )

    @admin.action(description=_("Cancel the selected events (give the reason below)"), permissions=["change"])
    def cancel(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            self.message_user(request, _("Say why the events are cancelled."), level=messages.ERROR)
            return
        run_for_each(
            self, request, queryset, lambda e: services.event_cancel(event=e, reason=reason, by=request.user)
        )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("kind", "node")
            .annotate(n=Count("participations"), h=Sum("participations__hours"))
        )

    @admin.display(description=_("person-times"), ordering="n")
    def people(self, obj):
        return obj.n

    @admin.display(description=_("volunteer hours"), ordering="h")
    def hours(self, obj):
        return obj.h or 0

    def save_model(self, request, obj, form, change):
        data = {k: v for k, v in form.cleaned_data.items() if k != "beneficiaries"}
        if not change:
            adopt(obj, services.event_create(created_by=request.user, **data))
            return
        before = ServiceEvent.objects.filter(pk=obj.pk).values_list("starts_at", flat=True).first()
        super().save_model(request, obj, form, change)
        # The figures of the day it was on and the day it is on now (its place may have moved too).
        for moment in {before, obj.starts_at} - {None}:
            rollup.touch(*SERVICE_METRICS, day=timezone.localtime(moment).date())

    # Points are posted by the community office, not by whoever may edit the event.
    action_permission_codes = {"award": services.AWARD_PERMISSION}

    def has_award_permission(self, request):
        return request.user.has_perm(services.AWARD_PERMISSION)

    @admin.action(description=_("Award points for the selected events"), permissions=["award"])
    def award(self, request, queryset):
        run_for_each(self, request, queryset, lambda e: services.award_points(event=e, actor=request.user))


@admin.register(Programme)
class ProgrammeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "node", "benefit", "monthly_subsidy", "discount_percent", "is_active", "eligible"]
    autocomplete_fields = ["node"]

    @admin.display(description=_("eligible residents"))
    def eligible(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("programme-eligible", args=[obj.pk]), _("List"))

    def save_model(self, request, obj, form, change):
        from services.eligibility import validate_rule

        validate_rule(form.cleaned_data["rule"])
        super().save_model(request, obj, form, change)


@admin.register(Delivery)
class DeliveryAdmin(ScopedAdminMixin, ReadOnly):
    list_display = ["delivered_on", "programme", "resident", "kind", "amount", "recorded_by"]
    list_select_related = ["programme", "resident", "recorded_by"]
    list_filter = [("programme", admin.RelatedOnlyFieldListFilter), "kind"]


@admin.register(VisitCadence)
class VisitCadenceAdmin(admin.ModelAdmin):
    list_display = ["colour", "days"]


@admin.register(Visit)
class VisitAdmin(ScopedAdminMixin, ReadOnly):
    list_display = ["visited_at", "household", "visitor", "colour_before", "colour_after", "ticket", "demand"]
    list_select_related = [
        "household",
        "household__node",
        "household__node__parent",
        "visitor",
        "ticket",
        "demand",
    ]
    list_filter = [SubtreeListFilter, KeyHouseholdFilter, "colour_after"]
    search_fields = ["household__room", "household__node__name", "findings"]
    date_hierarchy = "visited_at"


@admin.register(PointsAccount)
class PointsAccountAdmin(ScopedAdminMixin, ReadOnly):
    list_display = ["name", "kind", "community", "balance"]
    list_filter = ["kind", SubtreeListFilter]
    search_fields = ["name"]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).select_related("community").annotate(total=Sum("entries__amount"))
        )

    @admin.display(description=_("balance"), ordering="total")
    def balance(self, obj):
        return obj.total or 0


class EntryInline(admin.TabularInline):
    model = PointsEntry
    fields = ["account", "amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PointsTransaction)
class PointsTransactionAdmin(ScopedAdminMixin, ReadOnly):
    list_display = ["created_at", "kind", "memo", "community"]
    list_filter = ["kind", SubtreeListFilter]
    list_select_related = ["community"]
    inlines = [EntryInline]


@admin.register(Reward)
class RewardAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "cost", "stock", "provider", "community", "is_active"]
    autocomplete_fields = ["community"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "weight", "is_active", "order"]
    list_editable = ["weight", "is_active"]

    def has_change_permission(self, request, obj=None):
        """The street sets the weights: a role holding the right at a street, not at a community
        (the same role, community staff, works at both levels)."""
        from grid.choices import NodeLevel
        from grid.models import GridNode
        from grid.scope import scope_queryset

        if not super().has_change_permission(request, obj):
            return False
        if request.user.is_superuser:
            return True
        streets = GridNode.objects.filter(level=NodeLevel.STREET)
        return scope_queryset(streets, request.user, permission="services.change_indicator").exists()


class RoundForm(forms.ModelForm):
    class Meta:
        model = AssessmentRound
        fields = ["street", "month"]

    def clean_month(self):
        month = self.cleaned_data["month"]
        return month.replace(day=1) if month else month

    def clean_street(self):
        street = self.cleaned_data["street"]
        if street is not None and street.level != "street":
            raise forms.ValidationError(_("The grid competition is held by a street."))
        return street


class RoundListFilter(admin.SimpleListFilter):
    """The rounds the user may see, each named with its street, in one query."""

    title = _("round")
    parameter_name = "round"

    def lookups(self, request, model_admin):
        from grid.scope import scope_queryset

        rounds = scope_queryset(AssessmentRound.objects.select_related("street"), request.user)
        return [(str(r.pk), str(r)) for r in rounds.order_by("-month", "street__path")[:60]]

    def queryset(self, request, queryset):
        from grid.validators import parse_id

        if self.value() is None:
            return queryset
        return queryset.filter(round=parse_id(self.value()) or 0)


@admin.register(AssessmentRound)
class AssessmentRoundAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["street", "month", "status", "computed_at", "published_at", "board"]
    list_select_related = ["street"]
    form = RoundForm
    readonly_fields = ["status", "weights", "computed_at", "published_at"]
    autocomplete_fields = ["street"]
    actions = ["compute", "publish"]

    def get_readonly_fields(self, request, obj=None):
        # A round is its street's month: once added, recompute or publish it, never re-point it.
        return [*self.readonly_fields, "street", "month"] if obj is not None else self.readonly_fields

    @admin.display(description=_("leaderboard"))
    def board(self, obj):
        return format_html('<a href="{}?round={}">{}</a>', reverse("leaderboard"), obj.pk, _("Open"))

    @admin.action(description=_("Compute the selected rounds"), permissions=["change"])
    def compute(self, request, queryset):
        run_for_each(self, request, queryset, lambda r: assessment_compute(street=r.street, month=r.month))

    @admin.action(description=_("Publish (freeze) the selected rounds"), permissions=["change"])
    def publish(self, request, queryset):
        run_for_each(self, request, queryset, lambda r: assessment_publish(round_=r))


@admin.register(Assessment)
class AssessmentAdmin(ScopedAdminMixin, ReadOnly):
    list_display = ["round", "grid", "score", "rank_in_street", "rank_in_community"]
    list_select_related = ["round", "round__street", "grid"]
    list_filter = [RoundListFilter]

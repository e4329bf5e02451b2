"""Admin for the three lists, claims, 双报到 registrations and deliberation."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from demands import deliberation, lists
from demands.choices import ACTIVE_CLAIM_STATUSES
from demands.metrics import DEMAND_METRICS
from demands.models import (
    Ballot,
    Claim,
    CommunityRegistration,
    Demand,
    Meeting,
    Milestone,
    Project,
    Resource,
    ResourceBooking,
    Topic,
    TopicOption,
    TopicParticipant,
)
from grid import rollup
from grid.admin_history import HistoryAdmin
from grid.admin_scope import ScopedAdminMixin, ScopedInlineMixin, SubtreeListFilter, adopt, run_for_each
from grid.errors import ConflictError


class ServiceActionsMixin:
    def _each(self, request, queryset, call):
        run_for_each(self, request, queryset, call)

    def _save(self, request, call):
        try:
            return call()
        except (ValidationError, ConflictError) as error:
            text = error.message if isinstance(error, ConflictError) else "; ".join(error.messages)
            raise ValidationError(text) from error

    def has_delete_permission(self, request, obj=None):
        return False


def _save_changed(obj, form) -> None:
    """Write only the fields the form changed: the rest of the row (what is left of a resource
    after bookings, a topic's or project's status) may have moved on since the form was opened,
    and writing back the values read then would undo that."""
    columns = {field.name for field in obj._meta.concrete_fields}
    changed = [name for name in form.changed_data if name in columns]
    if changed:
        obj.save(update_fields=[*changed, *(["updated_at"] if "updated_at" in columns else [])])


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CommunityRegistration)
class RegistrationAdmin(ServiceActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["community", "unit", "member", "status", "requested_at", "decided_at", "decided_by"]
    list_filter = ["status", SubtreeListFilter]
    list_select_related = ["community", "unit", "member", "decided_by"]
    autocomplete_fields = ["community", "unit", "member"]
    fields = ["community", "unit", "member", "note"]
    actions = ["accept", "reject", "withdraw"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            adopt(
                obj,
                lists.registration_request(
                    community=data["community"],
                    unit=data.get("unit"),
                    member=data.get("member"),
                    note=data.get("note", ""),
                ),
            )

    @admin.action(description=_("Accept the selected registrations"), permissions=["change"])
    def accept(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda r: lists.registration_decide(registration=r, accept=True, actor=request.user),
        )

    @admin.action(description=_("Reject the selected registrations"), permissions=["change"])
    def reject(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda r: lists.registration_decide(registration=r, accept=False, actor=request.user),
        )

    @admin.action(description=_("Withdraw the selected registrations"), permissions=["change"])
    def withdraw(self, request, queryset):
        self._each(request, queryset, lambda r: lists.registration_withdraw(registration=r))


class ClaimInline(ReadOnlyInline):
    model = Claim
    fk_name = "demand"
    fields = ["unit", "member", "status", "claimed_at", "fulfilled_at", "feedback_rating", "feedback"]
    readonly_fields = fields


@admin.register(Demand)
class DemandAdmin(ServiceActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "node",
        "is_micro_wish",
        "urgency",
        "status",
        "created_at",
        "fulfilled_at",
    ]
    list_filter = ["status", "is_micro_wish", "kind", "source", "urgency", SubtreeListFilter]
    search_fields = ["title", "description", "beneficiary_group"]
    list_select_related = ["node"]
    autocomplete_fields = ["node", "beneficiary_resident", "beneficiary_household"]
    fields = [
        "node",
        "title",
        "description",
        "kind",
        "source",
        "is_micro_wish",
        "urgency",
        "quantity",
        "allows_multiple_claims",
        "beneficiary_resident",
        "beneficiary_household",
        "beneficiary_group",
        "status",
        "fulfilled_at",
    ]
    readonly_fields = ["status", "fulfilled_at"]
    inlines = [ClaimInline]
    actions = ["cancel"]

    def save_model(self, request, obj, form, change):
        data = {f: v for f, v in form.cleaned_data.items() if f not in ("status", "fulfilled_at")}
        if not change:
            adopt(obj, lists.demand_create(created_by=request.user, **data))
            return
        if "allows_multiple_claims" in form.changed_data and not form.cleaned_data["allows_multiple_claims"]:
            active = obj.claims.filter(status__in=ACTIVE_CLAIM_STATUSES).count()
            if active > 1:
                raise ValidationError(
                    {
                        "allows_multiple_claims": _(
                            "%(n)d claimants are working on it; withdraw all but one first."
                        )
                        % {"n": active}
                    }
                )
        for field in form.changed_data:
            setattr(obj, field, form.cleaned_data[field])
        obj.full_clean()
        _save_changed(obj, form)
        if {"node", "is_micro_wish"} & set(form.changed_data):
            # Where and what a demand is changes the figures of the days it was collected and met.
            for moment in {obj.created_at, obj.fulfilled_at} - {None}:
                rollup.touch(*DEMAND_METRICS, day=timezone.localtime(moment).date())

    @admin.action(description=_("Cancel the selected demands"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda d: lists.demand_cancel(demand=d))


class BookingInline(ReadOnlyInline):
    model = ResourceBooking
    fields = ["quantity", "purpose", "project", "demand", "status", "booked_by", "booked_at"]
    readonly_fields = fields


@admin.register(ResourceBooking)
class ResourceBookingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Bookings of the community's resources; a booking no longer needed is released here."""

    list_display = [
        "resource",
        "quantity",
        "purpose",
        "project",
        "demand",
        "status",
        "booked_by",
        "booked_at",
    ]
    list_filter = ["status"]
    list_select_related = ["resource", "project", "demand", "booked_by"]
    search_fields = ["purpose", "resource__title"]
    actions = ["release"]

    def has_add_permission(self, request):
        return False  # booked from the resource list (its "book" action), never typed in here

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ResourceBooking._meta.fields]

    @admin.action(
        description=_("Cancel the selected bookings (the quantity is free again)"), permissions=["change"]
    )
    def release(self, request, queryset):
        run_for_each(self, request, queryset, lambda booking: lists.booking_cancel(booking=booking))


class BookForm(admin.helpers.ActionForm):
    quantity = forms.IntegerField(label=_("Quantity"), required=False, min_value=1)
    purpose = forms.CharField(label=_("Purpose"), required=False, max_length=200)


@admin.register(Resource)
class ResourceAdmin(ServiceActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "provider",
        "community",
        "quantity",
        "remaining",
        "measure",
        "available_from",
        "available_until",
        "withdrawn_at",
    ]
    list_filter = ["kind", SubtreeListFilter]
    search_fields = ["title", "unit__name", "member__name"]
    list_select_related = ["community", "unit", "member"]
    autocomplete_fields = ["community", "unit", "member"]
    fields = [
        "community",
        "unit",
        "member",
        "kind",
        "title",
        "description",
        "quantity",
        "measure",
        "available_from",
        "available_until",
    ]
    inlines = [BookingInline]
    action_form = BookForm
    actions = ["book", "withdraw"]

    def get_readonly_fields(self, request, obj=None):
        return ["community", "unit", "member", "quantity"] if obj else []

    @admin.display(description=_("provider"))
    def provider(self, obj):
        return obj.unit or obj.member

    def save_model(self, request, obj, form, change):
        data = dict(form.cleaned_data)
        if not change:
            adopt(obj, self._save(request, lambda: lists.resource_offer(**data)))
            return
        for field in form.changed_data:
            setattr(obj, field, data[field])
        obj.full_clean()
        _save_changed(obj, form)

    @admin.action(description=_("Book the quantity below for the purpose below"), permissions=["change"])
    def book(self, request, queryset):
        quantity, purpose = request.POST.get("quantity", ""), request.POST.get("purpose", "")
        if not quantity.isdigit() or not purpose.strip():
            self.message_user(request, _("Enter the quantity and the purpose."), level=messages.ERROR)
            return
        self._each(
            request,
            queryset,
            lambda r: lists.resource_book(
                resource=r, quantity=int(quantity), purpose=purpose, actor=request.user
            ),
        )

    @admin.action(description=_("Withdraw the selected resources"), permissions=["change"])
    def withdraw(self, request, queryset):
        self._each(request, queryset, lambda r: lists.resource_withdraw(resource=r))


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ["title", "due_on", "weight", "progress", "done_on"]
    readonly_fields = ["done_on"]
    extra = 0
    can_delete = False


@admin.register(Project)
class ProjectAdmin(ServiceActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "node", "owner_name", "budget", "starts_on", "ends_on", "status", "progress"]
    list_filter = ["status", SubtreeListFilter]
    search_fields = ["title", "owner_name"]
    list_select_related = ["node"]
    autocomplete_fields = ["node", "owner_unit", "demands"]
    fields = [
        "node",
        "title",
        "description",
        "owner_name",
        "owner_unit",
        "budget",
        "starts_on",
        "ends_on",
        "demands",
        "status",
        "progress",
        "source_topic",
    ]
    readonly_fields = ["status", "progress", "source_topic"]
    inlines = [MilestoneInline]
    actions = ["start", "complete", "cancel"]

    def save_model(self, request, obj, form, change):
        data = {f: v for f, v in form.cleaned_data.items() if f != "demands"}
        if not change:
            adopt(obj, lists.project_create(**data))
            return
        for field in form.changed_data:
            if field != "demands":
                setattr(obj, field, form.cleaned_data[field])
        obj.full_clean()
        _save_changed(obj, form)

    def save_formset(self, request, form, formset, change):
        """Milestones through the services, so the project's progress rolls up."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if not inline.has_changed() or not inline.is_valid():
                continue
            data = inline.cleaned_data
            if inline.instance.pk is None:
                milestone = lists.milestone_add(
                    project=form.instance,
                    title=data["title"],
                    due_on=data.get("due_on"),
                    weight=data.get("weight") or 1,
                )
                if data.get("progress"):
                    lists.milestone_progress(milestone=milestone, progress=data["progress"])
                formset.new_objects.append(milestone)
            else:
                before = Milestone.objects.get(pk=inline.instance.pk)
                milestone = lists.milestone_update(
                    milestone=before, **{field: data[field] for field in ("title", "due_on", "weight")}
                )
                if data["progress"] != before.progress:
                    milestone = lists.milestone_progress(milestone=milestone, progress=data["progress"])
                formset.changed_objects.append((milestone, inline.changed_data))

    @admin.action(description=_("Start the selected projects"), permissions=["change"])
    def start(self, request, queryset):
        self._each(request, queryset, lambda p: lists.project_move(project=p, action="start"))

    @admin.action(description=_("Complete the selected projects"), permissions=["change"])
    def complete(self, request, queryset):
        self._each(request, queryset, lambda p: lists.project_move(project=p, action="complete"))

    @admin.action(description=_("Cancel the selected projects"), permissions=["change"])
    def cancel(self, request, queryset):
        self._each(request, queryset, lambda p: lists.project_move(project=p, action="cancel"))


class FulfilForm(admin.helpers.ActionForm):
    rating = forms.TypedChoiceField(
        label=_("Beneficiary's rating"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), (5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")],
    )
    feedback = forms.CharField(label=_("Feedback"), required=False, max_length=500)


@admin.register(Claim)
class ClaimAdmin(ServiceActionsMixin, ScopedAdminMixin, HistoryAdmin):
    list_display = [
        "target",
        "claimant",
        "community",
        "status",
        "claimed_at",
        "fulfilled_at",
        "feedback_rating",
    ]
    list_filter = ["status", SubtreeListFilter]
    list_select_related = ["community", "demand", "project", "unit", "member"]
    autocomplete_fields = ["demand", "project", "unit", "member"]
    fields = ["demand", "project", "unit", "member", "note"]
    action_form = FulfilForm
    actions = ["start", "fulfil", "withdraw"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    @admin.display(description=_("claimed"))
    def target(self, obj):
        return obj.demand or obj.project

    @admin.display(description=_("claimant"))
    def claimant(self, obj):
        return obj.unit or obj.member

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            adopt(
                obj,
                self._save(
                    request,
                    lambda: lists.claim_create(
                        demand=data.get("demand"),
                        project=data.get("project"),
                        unit=data.get("unit"),
                        member=data.get("member"),
                        actor=request.user,
                        note=data.get("note", ""),
                    ),
                ),
            )

    @admin.action(description=_("Start"), permissions=["change"])
    def start(self, request, queryset):
        self._each(request, queryset, lambda c: lists.claim_start(claim=c))

    @admin.action(
        description=_("Fulfil, with the beneficiary's rating and feedback below"), permissions=["change"]
    )
    def fulfil(self, request, queryset):
        rating = request.POST.get("rating") or None
        self._each(
            request,
            queryset,
            lambda c: lists.claim_fulfil(
                claim=c, rating=int(rating) if rating else None, feedback=request.POST.get("feedback", "")
            ),
        )

    @admin.action(description=_("Withdraw"), permissions=["change"])
    def withdraw(self, request, queryset):
        self._each(request, queryset, lambda c: lists.claim_withdraw(claim=c))


class ParticipantInline(ScopedInlineMixin, admin.TabularInline):
    model = TopicParticipant
    fields = ["kind", "name", "resident", "member", "unit"]
    autocomplete_fields = ["resident", "member", "unit"]
    extra = 0
    can_delete = False


class OptionInline(ReadOnlyInline):
    model = TopicOption
    fields = ["title", "description", "votes"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(votes=Count("ballots"))

    @admin.display(description=_("votes"))
    def votes(self, obj):
        return obj.votes


class MeetingInline(ReadOnlyInline):
    model = Meeting
    fields = ["held_at", "place", "minutes"]
    readonly_fields = fields


@admin.register(Topic)
class TopicAdmin(ServiceActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["title", "node", "origin", "status", "created_at", "decided_at", "praised"]
    list_filter = ["status", "origin", "praised", SubtreeListFilter]
    search_fields = ["title", "description"]
    list_select_related = ["node"]
    autocomplete_fields = ["node"]
    fields = [
        "node",
        "title",
        "description",
        "origin",
        "status",
        "decision",
        "decided_at",
        "outcome",
        "praised",
    ]
    readonly_fields = ["status", "decision", "decided_at", "outcome", "praised"]
    inlines = [ParticipantInline, OptionInline, MeetingInline]
    actions = ["open_vote", "decide"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            adopt(
                obj,
                deliberation.topic_create(
                    node=data["node"],
                    title=data["title"],
                    description=data["description"],
                    origin=data["origin"],
                    raised_by=request.user,
                ),
            )
            return
        for field in form.changed_data:
            setattr(obj, field, data[field])
        _save_changed(obj, form)

    def save_formset(self, request, form, formset, change):
        if formset.model is not TopicParticipant:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.forms:
            if inline.has_changed() and inline.is_valid() and inline.instance.pk is None:
                data = inline.cleaned_data
                formset.new_objects.append(
                    deliberation.participant_add(
                        topic=form.instance,
                        kind=data["kind"],
                        name=data["name"],
                        resident=data.get("resident"),
                        member=data.get("member"),
                        unit=data.get("unit"),
                    )
                )
        return None

    @admin.action(description=_("Open the vote"), permissions=["change"])
    def open_vote(self, request, queryset):
        self._each(request, queryset, lambda t: deliberation.voting_open(topic=t))

    @admin.action(description=_("Close the vote and record the decision"), permissions=["change"])
    def decide(self, request, queryset):
        self._each(request, queryset, lambda t: deliberation.topic_decide(topic=t, actor=request.user))


class OptionForm(forms.ModelForm):
    class Meta:
        model = TopicOption
        fields = ["topic", "title", "description"]


@admin.register(TopicOption)
class TopicOptionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = OptionForm
    list_display = ["title", "topic"]
    list_select_related = ["topic"]
    autocomplete_fields = ["topic"]
    search_fields = ["title"]

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            adopt(
                obj,
                deliberation.option_add(
                    topic=data["topic"], title=data["title"], description=data["description"]
                ),
            )


@admin.register(Meeting)
class MeetingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["topic", "held_at", "place"]
    list_select_related = ["topic"]
    autocomplete_fields = ["topic"]
    filter_horizontal = ["attendees"]

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            adopt(
                obj,
                deliberation.meeting_record(
                    topic=data["topic"],
                    held_at=data["held_at"],
                    minutes=data["minutes"],
                    place=data.get("place", ""),
                    attendees=data.get("attendees", []),
                ),
            )

    def save_related(self, request, form, formsets, change):
        return  # the service sets the attendees


@admin.register(Ballot)
class BallotAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["topic", "participant", "option", "cast_at"]
    list_select_related = ["topic", "participant", "option"]
    autocomplete_fields = ["topic"]

    def save_model(self, request, obj, form, change):
        if not change:
            data = form.cleaned_data
            adopt(
                obj,
                deliberation.ballot_cast(
                    topic=data["topic"], participant=data["participant"], option=data["option"]
                ),
            )

"""API: service-events, visits, programs, points and assessments."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from demands.selectors import active_categories
from grid.api.fields import ScopedModelSerializer, ScopedRelatedField
from grid.api.views import IdempotentWritesMixin, ScopedReadCreateViewSet
from grid.filters import BoundedIsoDateTimeFilter
from grid.filtersets import SubtreeFilter
from grid.models import GridNode
from grid.scope import object_in_scope, scope_queryset
from residents.choices import Colour
from residents.models import Household
from residents.selectors import resident_list
from services import selectors, services
from services.assessment import assessment_compute, assessment_publish
from services.choices import ParticipantRole
from services.eligibility import log_listing, visible_eligible
from services.models import (
    Assessment,
    AssessmentRound,
    EventKind,
    Participation,
    PointsAccount,
    PointsEntry,
    Programme,
    Reward,
    ServiceEvent,
    Visit,
)


class AwardResultSerializer(serializers.Serializer):
    awarded = serializers.IntegerField()


class DueSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    address = serializers.CharField()
    colour = serializers.CharField()
    last_visit = serializers.DateTimeField(allow_null=True)


class EligibleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    age = serializers.IntegerField()
    address = serializers.CharField()


class DeliveryResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subsidy_left = serializers.DecimalField(max_digits=8, decimal_places=2)


class RoundResultSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    status = serializers.CharField()


class ParticipationSerializer(ScopedModelSerializer):
    class Meta:
        model = Participation
        fields = ["id", "role", "user", "member", "name", "hours", "checked_in_at"]


class ServiceEventSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=GridNode)
    kind = serializers.SlugRelatedField(slug_field="code", queryset=EventKind.objects.all())
    participant_count = serializers.IntegerField(read_only=True, default=0)
    volunteer_hours = serializers.DecimalField(read_only=True, max_digits=9, decimal_places=2, default=0)

    class Meta:
        model = ServiceEvent
        fields = [
            "id",
            "node",
            "kind",
            "title",
            "organizer_kind",
            "organizer_unit",
            "organizer_org",
            "starts_at",
            "ends_at",
            "place",
            "description",
            "beneficiary_count",
            "series",
            "participant_count",
            "volunteer_hours",
            "points_awarded_at",
            "cancelled_at",
            "cancel_reason",
        ]
        read_only_fields = ["series", "points_awarded_at", "cancelled_at", "cancel_reason"]

    def create(self, validated_data):
        return services.event_create(created_by=self.context["request"].user, **validated_data)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class SignInSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ParticipantRole.choices)
    user = serializers.IntegerField(required=False, allow_null=True)
    member = serializers.IntegerField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    hours = serializers.DecimalField(required=False, allow_null=True, max_digits=5, decimal_places=2)


class EventFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    kind = django_filters.CharFilter(field_name="kind__code")
    starts_after = BoundedIsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_before = BoundedIsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")

    class Meta:
        model = ServiceEvent
        fields = ["node", "kind", "starts_after", "starts_before"]


def _participant(caller, event, data):
    """The account or party member named by id in a sign-in: one the caller can see, an account
    of the event's community, or a member registered (双报到) with it; any other id is refused as
    unknown, so that nobody learns a stranger's name from the answer."""
    from demands.choices import RegistrationStatus
    from demands.lists import community_of
    from demands.models import CommunityRegistration
    from grid.models import PartyMembership, User

    user = member = None
    community = community_of(event.node)
    if data.get("user"):
        visible = scope_queryset(User.objects.all(), caller).values("pk")
        user = (
            User.objects.filter(pk=data["user"], is_active=True)
            .filter(Q(pk__in=visible) | Q(home_node__path__startswith=community.path))
            .first()
        )
        if user is None:
            raise serializers.ValidationError({"user": [_("No such account here.")]})
    if data.get("member"):
        registered = CommunityRegistration.objects.filter(
            community=community, status=RegistrationStatus.ACCEPTED
        ).values("member_id")
        member = (
            PartyMembership.objects.filter(pk=data["member"])
            .filter(
                Q(pk__in=scope_queryset(PartyMembership.objects.all(), caller).values("pk"))
                | Q(pk__in=registered)
            )
            .first()
        )
        if member is None:
            raise serializers.ValidationError({"member": [_("No such party member here.")]})
    return user, member


class EventViewSet(ScopedReadCreateViewSet):
    """Service events; `sign-in` records a participant, `award-points` credits their hours once,
    `cancel` calls the event off with a reason (it then counts in no figure)."""

    selector = selectors.event_list
    serializer_class = ServiceEventSerializer
    filterset_class = EventFilterSet
    action_permissions = {
        "sign_in": "change",
        "award_points": "change",
        "cancel": "change",
        "participants": "view",
    }

    @extend_schema(request=CancelSerializer, responses=ServiceEventSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        event = self.get_object()
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.event_cancel(event=event, reason=payload.validated_data["reason"], by=request.user)
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(request=SignInSerializer, responses=ParticipationSerializer)
    @action(detail=True, methods=["post"], url_path="sign-in")
    def sign_in(self, request, pk=None):
        event = self.get_object()
        payload = SignInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        user, member = _participant(request.user, event, data)
        participation = services.sign_in(
            event=event,
            role=data["role"],
            user=user,
            member=member,
            name=data["name"],
            hours=data.get("hours"),
            by=request.user,
        )
        return Response(ParticipationSerializer(participation).data, status=201)

    @extend_schema(request=None, responses=AwardResultSerializer)
    @action(detail=True, methods=["post"], url_path="award-points")
    def award_points(self, request, pk=None):
        event = self.get_object()
        # Points are money-like: the community office posts them, not whoever runs the event.
        if not object_in_scope(request.user, event, services.AWARD_PERMISSION):
            raise PermissionDenied(_("Only the community office awards points."))
        return Response({"awarded": services.award_points(event=event, actor=request.user)})

    @extend_schema(responses=ParticipationSerializer(many=True))
    @action(detail=True, methods=["get"])
    def participants(self, request, pk=None):
        return Response(ParticipationSerializer(self.get_object().participations.all(), many=True).data)


class VisitSerializer(ScopedModelSerializer):
    household = ScopedRelatedField(related_model=Household)
    address = serializers.CharField(source="household.address", read_only=True)
    colour = serializers.ChoiceField(choices=Colour.choices, required=False, write_only=True)
    colour_reason = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=200)
    ticket_category = serializers.SlugRelatedField(
        slug_field="code", queryset=active_categories(), required=False, write_only=True
    )
    ticket_description = serializers.CharField(required=False, write_only=True, max_length=1000)
    demand_title = serializers.CharField(required=False, write_only=True, max_length=100)
    demand_kind = serializers.CharField(required=False, write_only=True, default="other")

    class Meta:
        model = Visit
        fields = [
            "id",
            "household",
            "address",
            "visitor",
            "visited_at",
            "findings",
            "colour_before",
            "colour_after",
            "ticket",
            "demand",
            "colour",
            "colour_reason",
            "ticket_category",
            "ticket_description",
            "demand_title",
            "demand_kind",
        ]
        read_only_fields = ["visitor", "visited_at", "colour_before", "colour_after", "ticket", "demand"]

    def validate(self, attrs):
        if bool(attrs.get("ticket_category")) != bool(attrs.get("ticket_description")):
            raise serializers.ValidationError(
                {"ticket_description": "ticket_category and ticket_description go together."}
            )
        return attrs

    def create(self, validated_data):
        ticket = demand = None
        if validated_data.get("ticket_category"):
            ticket = {
                "category": validated_data["ticket_category"],
                "description": validated_data["ticket_description"],
            }
        if validated_data.get("demand_title"):
            demand = {
                "title": validated_data["demand_title"],
                "kind": validated_data.get("demand_kind") or "other",
            }
        return services.visit_record(
            household=validated_data["household"],
            visitor=self.context["request"].user,
            findings=validated_data["findings"],
            colour=validated_data.get("colour"),
            colour_reason=validated_data.get("colour_reason", ""),
            ticket=ticket,
            demand=demand,
        )


class VisitFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    household = django_filters.NumberFilter(field_name="household")

    class Meta:
        model = Visit
        fields = ["node", "household"]


class VisitViewSet(ScopedReadCreateViewSet):
    """Home visits; `due` lists the households in the caller's area due a visit by colour cadence."""

    selector = selectors.visit_list
    serializer_class = VisitSerializer
    filterset_class = VisitFilterSet

    # A plain list of at most 500 rows (the worker's whole to-do list), neither paged nor filtered.
    @extend_schema(responses=DueSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def due(self, request):
        rows = selectors.overdue_households(user=request.user)[:500]
        return Response(
            [
                {"household": h.pk, "address": h.address, "colour": h.colour, "last_visit": h.last_visit}
                for h in rows
            ]
        )


class ProgrammeSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=GridNode)

    class Meta:
        model = Programme
        fields = ["id", "node", "name", "benefit", "rule", "monthly_subsidy", "discount_percent", "is_active"]

    def create(self, validated_data):
        return services.programme_create(**validated_data)


class DeliverySerializer(serializers.Serializer):
    resident = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["meal", "home_delivery", "subsidy_exchange", "service"])
    amount = serializers.DecimalField(max_digits=8, decimal_places=2, required=False, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ProgrammeViewSet(ScopedReadCreateViewSet):
    """Programmes with eligibility rules; `eligible` lists who qualifies today, `deliveries` records one."""

    selector = selectors.programme_list
    serializer_class = ProgrammeSerializer
    filterset_class = None
    action_permissions = {"eligible": "view", "deliveries": "change"}

    @extend_schema(responses=EligibleSerializer(many=True))
    @action(detail=True, methods=["get"])
    def eligible(self, request, pk=None):
        programme = self.get_object()
        residents, sensitive = visible_eligible(programme, request.user)
        page = self.paginate_queryset(residents.select_related("household__node__parent").order_by("id"))
        log_listing(request, page, sensitive)
        return self.get_paginated_response(
            [{"id": r.pk, "name": r.name, "age": r.age, "address": r.household.address} for r in page]
        )

    @extend_schema(request=DeliverySerializer, responses={201: DeliveryResultSerializer})
    @action(detail=True, methods=["post"])
    def deliveries(self, request, pk=None):
        programme = self.get_object()
        payload = DeliverySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        resident = resident_list(user=request.user).filter(pk=data["resident"]).first()
        if resident is None:
            raise PermissionDenied
        delivery = services.delivery_record(
            programme=programme,
            resident=resident,
            kind=data["kind"],
            amount=data["amount"],
            note=data["note"],
            actor=request.user,
        )
        return Response(
            {
                "id": delivery.pk,
                "subsidy_left": services.subsidy_left(programme, resident, delivery.delivered_on),
            },
            status=201,
        )


class EntrySerializer(ScopedModelSerializer):
    memo = serializers.CharField(source="transaction.memo")
    at = serializers.DateTimeField(source="transaction.created_at")

    class Meta:
        model = PointsEntry
        fields = ["id", "amount", "memo", "at"]


class AccountSerializer(ScopedModelSerializer):
    balance = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = PointsAccount
        fields = ["id", "community", "kind", "user", "member", "name", "balance"]


class RedeemSerializer(serializers.Serializer):
    reward = serializers.PrimaryKeyRelatedField(queryset=Reward.objects.filter(is_active=True))


class PointsViewSet(
    IdempotentWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The time bank: accounts with balances derived from the ledger; `entries`, `redeem`."""

    serializer_class = AccountSerializer
    # Redeeming posts a transaction from the account: the community office, who may add them.
    action_permissions = {"redeem": "add", "entries": "view"}

    def get_queryset(self):
        return selectors.account_list(user=self.request.user).order_by("kind", "name")

    @extend_schema(responses=EntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def entries(self, request, pk=None):
        entries = (
            self.get_object().entries.select_related("transaction").order_by("-transaction__created_at")[:500]
        )
        return Response(EntrySerializer(entries, many=True).data)

    @extend_schema(request=RedeemSerializer, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        account = self.get_object()
        if not object_in_scope(request.user, account, "services.add_pointstransaction"):
            raise PermissionDenied
        payload = RedeemSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.points_redeem(account=account, reward=payload.validated_data["reward"], actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=account.pk)).data)


class AssessmentSerializer(ScopedModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    community_name = serializers.CharField(source="grid.parent.name", read_only=True)
    month = serializers.DateField(source="round.month", read_only=True)
    published = serializers.SerializerMethodField()

    class Meta:
        model = Assessment
        fields = [
            "id",
            "round",
            "month",
            "published",
            "grid",
            "grid_name",
            "community_name",
            "values",
            "score",
            "rank_in_street",
            "rank_in_community",
        ]

    def get_published(self, obj) -> bool:
        return obj.round.status == "published"


class RoundSerializer(serializers.Serializer):
    street = serializers.IntegerField()
    month = serializers.DateField()


class AssessmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The grid competition: scores per grid per month; `compute` and `publish` a round."""

    serializer_class = AssessmentSerializer
    filterset_fields = ["round"]
    action_permissions = {"compute": "add", "publish": "add"}

    def get_queryset(self):
        return selectors.assessment_list(user=self.request.user)

    def _round_permission(self, request, street):
        if not object_in_scope(request.user, AssessmentRound(street=street), "services.add_assessmentround"):
            raise PermissionDenied

    @extend_schema(request=RoundSerializer, responses=RoundResultSerializer)
    @action(detail=False, methods=["post"])
    def compute(self, request):
        payload = RoundSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        street = GridNode.objects.filter(pk=payload.validated_data["street"], level="street").first()
        if street is None:
            raise PermissionDenied
        self._round_permission(request, street)
        round_ = assessment_compute(street=street, month=payload.validated_data["month"])
        return Response({"round": round_.pk, "status": round_.status})

    @extend_schema(request=RoundSerializer, responses=RoundResultSerializer)
    @action(detail=False, methods=["post"])
    def publish(self, request):
        payload = RoundSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        round_ = AssessmentRound.objects.filter(
            street_id=payload.validated_data["street"], month=payload.validated_data["month"].replace(day=1)
        ).first()
        if round_ is None:
            raise PermissionDenied
        self._round_permission(request, round_.street)
        round_ = assessment_publish(round_=round_)
        return Response({"round": round_.pk, "status": round_.status})

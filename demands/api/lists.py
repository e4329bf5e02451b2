"""API for the three lists, claims, 双报到 registrations and deliberation topics."""

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from demands import deliberation, lists, selectors
from demands.models import (
    Claim,
    CommunityRegistration,
    Demand,
    Milestone,
    Project,
    Resource,
    ResourceBooking,
    Topic,
    TopicOption,
    TopicParticipant,
)
from grid.api.fields import ScopedModelSerializer, ScopedRelatedField, VisibleRelatedField
from grid.api.views import ScopedReadCreateViewSet
from grid.filtersets import SubtreeFilter
from grid.models import CoBuildingUnit, GridNode, PartyMembership
from grid.validators import parse_id


class DemandSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=GridNode)
    node_name = serializers.CharField(source="node.name", read_only=True)
    active_claims = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Demand
        fields = [
            "id",
            "node",
            "node_name",
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
            "source_ticket",
            "source_topic",
            "status",
            "active_claims",
            "created_at",
            "fulfilled_at",
        ]
        read_only_fields = ["status", "created_at", "fulfilled_at"]

    def create(self, validated_data):
        return lists.demand_create(created_by=self.context["request"].user, **validated_data)


class ResourceSerializer(ScopedModelSerializer):
    community = ScopedRelatedField(related_model=GridNode)
    provider = serializers.SerializerMethodField()

    class Meta:
        model = Resource
        fields = [
            "id",
            "community",
            "unit",
            "member",
            "provider",
            "kind",
            "title",
            "description",
            "quantity",
            "remaining",
            "measure",
            "available_from",
            "available_until",
            "withdrawn_at",
            "created_at",
        ]
        read_only_fields = ["remaining", "withdrawn_at", "created_at"]

    def get_provider(self, obj) -> str:
        return str(obj.unit or obj.member)

    def create(self, validated_data):
        return lists.resource_offer(**validated_data)


class CancelBookingSerializer(serializers.Serializer):
    booking = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class BookingSerializer(ScopedModelSerializer):
    class Meta:
        model = ResourceBooking
        fields = [
            "id",
            "resource",
            "quantity",
            "purpose",
            "project",
            "demand",
            "status",
            "booked_by",
            "booked_at",
        ]
        read_only_fields = ["resource", "status", "booked_by", "booked_at"]


class MilestoneSerializer(ScopedModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_on", "weight", "progress", "done_on"]
        read_only_fields = ["done_on"]


class ProjectSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=GridNode)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "node",
            "title",
            "description",
            "owner_name",
            "owner_unit",
            "budget",
            "starts_on",
            "ends_on",
            "status",
            "progress",
            "demands",
            "source_topic",
            "milestones",
            "created_at",
        ]
        read_only_fields = ["status", "progress", "source_topic", "created_at"]

    def create(self, validated_data):
        demands = validated_data.pop("demands", [])
        return lists.project_create(demands=demands, **validated_data)


class ClaimSerializer(ScopedModelSerializer):
    demand = ScopedRelatedField(related_model=Demand, required=False, allow_null=True)
    project = ScopedRelatedField(related_model=Project, required=False, allow_null=True)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=CoBuildingUnit.objects.all(), required=False, allow_null=True
    )
    member = serializers.PrimaryKeyRelatedField(
        queryset=PartyMembership.objects.all(), required=False, allow_null=True
    )
    claimant = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "community",
            "demand",
            "project",
            "unit",
            "member",
            "claimant",
            "status",
            "note",
            "claimed_at",
            "started_at",
            "fulfilled_at",
            "withdrawn_at",
            "feedback_rating",
            "feedback",
        ]
        read_only_fields = [
            "community",
            "status",
            "claimed_at",
            "started_at",
            "fulfilled_at",
            "withdrawn_at",
            "feedback_rating",
            "feedback",
        ]

    def get_claimant(self, obj) -> str:
        return str(obj.unit or obj.member)

    def validate(self, attrs):
        user = self.context["request"].user
        if not user.has_perm("demands.change_claim"):
            # Without office rights one claims as oneself, never for another member or a unit.
            mine = set(selectors.my_memberships(user).values_list("pk", flat=True))
            if attrs.get("unit") is not None or getattr(attrs.get("member"), "pk", None) not in mine:
                raise serializers.ValidationError(
                    {"member": _("Claim as yourself: choose your own membership.")}
                )
        return attrs

    def create(self, validated_data):
        return lists.claim_create(actor=self.context["request"].user, **validated_data)


class RegistrationSerializer(ScopedModelSerializer):
    community = ScopedRelatedField(related_model=GridNode)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=CoBuildingUnit.objects.all(), required=False, allow_null=True
    )
    member = serializers.PrimaryKeyRelatedField(
        queryset=PartyMembership.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = CommunityRegistration
        fields = [
            "id",
            "community",
            "unit",
            "member",
            "status",
            "note",
            "requested_at",
            "decided_at",
            "decided_by",
        ]
        read_only_fields = ["status", "requested_at", "decided_at", "decided_by"]
        # Not the validators DRF derives from the conditional unique constraints: they make both
        # `unit` and `member` required. The service refuses a second registration (409).
        validators = []

    def create(self, validated_data):
        return lists.registration_request(**validated_data)


class ParticipantSerializer(ScopedModelSerializer):
    class Meta:
        model = TopicParticipant
        fields = ["id", "kind", "name", "resident", "member", "unit"]


class OptionSerializer(ScopedModelSerializer):
    votes = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = TopicOption
        fields = ["id", "title", "description", "votes"]


class TopicSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=GridNode)
    participants = ParticipantSerializer(many=True, read_only=True)
    options = OptionSerializer(many=True, read_only=True)
    meeting_count = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = [
            "id",
            "node",
            "title",
            "description",
            "origin",
            "status",
            "decision",
            "decided_at",
            "outcome",
            "praised",
            "participants",
            "options",
            "meeting_count",
            "created_at",
        ]
        read_only_fields = ["status", "decision", "decided_at", "outcome", "praised", "created_at"]

    def get_meeting_count(self, obj) -> int:
        return len(obj.meetings.all())

    def create(self, validated_data):
        return deliberation.topic_create(raised_by=self.context["request"].user, **validated_data)


class ClaimNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class FulfilSerializer(serializers.Serializer):
    rating = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=5)
    feedback = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class BookSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
    purpose = serializers.CharField(max_length=200)
    project = VisibleRelatedField(queryset=Project.objects.all(), required=False, allow_null=True)
    demand = VisibleRelatedField(queryset=Demand.objects.all(), required=False, allow_null=True)


class DecideSerializer(serializers.Serializer):
    accept = serializers.BooleanField()


class MeetingSerializer(serializers.Serializer):
    held_at = serializers.DateTimeField()
    place = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    minutes = serializers.CharField(max_length=8000)
    attendees = serializers.PrimaryKeyRelatedField(
        queryset=TopicParticipant.objects.all(), many=True, required=False
    )


class BallotSerializer(serializers.Serializer):
    participant = serializers.PrimaryKeyRelatedField(queryset=TopicParticipant.objects.all())
    option = serializers.PrimaryKeyRelatedField(queryset=TopicOption.objects.all())


class TopicDecisionSerializer(serializers.Serializer):
    decision = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ImplementSerializer(serializers.Serializer):
    project_title = serializers.CharField(max_length=100)
    owner_name = serializers.CharField(max_length=100)
    budget = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, default=0, min_value=0)


class FinishSerializer(serializers.Serializer):
    outcome = serializers.CharField(max_length=4000)
    praised = serializers.BooleanField(default=False)


def _filterset(model, extra=None):
    attrs = {"node": SubtreeFilter()}
    attrs.update(extra or {})
    meta = type("Meta", (), {"model": model, "fields": ["node", *(extra or {})]})
    return type(f"{model.__name__}FilterSet", (django_filters.FilterSet,), {**attrs, "Meta": meta})


class _Actions:
    """Helpers shared by the viewsets below."""

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data)
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    def _done(self, obj):
        return Response(self.get_serializer(self.get_queryset().get(pk=obj.pk)).data)


class DemandViewSet(_Actions, ScopedReadCreateViewSet):
    """The demand list (需求清单) with micro-wishes (微心愿)."""

    selector = selectors.demand_list
    serializer_class = DemandSerializer
    filterset_class = _filterset(
        Demand,
        {
            "status": django_filters.CharFilter(),
            "kind": django_filters.CharFilter(),
            "is_micro_wish": django_filters.BooleanFilter(),
        },
    )
    action_permissions = {"cancel": "change"}

    @extend_schema(request=None, responses=DemandSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._done(lists.demand_cancel(demand=self.get_object()))


class ResourceViewSet(_Actions, ScopedReadCreateViewSet):
    """The resource list (资源清单): what units and party members offer, and what is left."""

    selector = selectors.resource_list
    serializer_class = ResourceSerializer
    filterset_class = _filterset(Resource, {"kind": django_filters.CharFilter()})
    action_permissions = {"book": "change", "withdraw": "change", "cancel_booking": "change"}

    @extend_schema(request=CancelBookingSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"], url_path="cancel-booking")
    def cancel_booking(self, request, pk=None):
        """Release a booking of this resource: its quantity is free again."""
        resource = self.get_object()
        data = self._payload(CancelBookingSerializer)
        booking = resource.bookings.filter(pk=data["booking"]).first()
        if booking is None:
            raise serializers.ValidationError({"booking": [_("No such booking of this resource.")]})
        return Response(BookingSerializer(lists.booking_cancel(booking=booking)).data)

    @extend_schema(request=BookSerializer, responses=BookingSerializer)
    @action(detail=True, methods=["post"])
    def book(self, request, pk=None):
        resource = self.get_object()
        data = self._payload(BookSerializer)
        booking = lists.resource_book(resource=resource, actor=request.user, **data)
        return Response(BookingSerializer(booking).data, status=201)

    @extend_schema(request=None, responses=ResourceSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._done(lists.resource_withdraw(resource=self.get_object()))


class ProjectViewSet(_Actions, ScopedReadCreateViewSet):
    """The project list (项目清单) with milestones; progress rolls up from them."""

    selector = selectors.project_list
    serializer_class = ProjectSerializer
    filterset_class = _filterset(Project, {"status": django_filters.CharFilter()})
    action_permissions = {"start": "change", "complete": "change", "cancel": "change", "milestones": "change"}

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._done(lists.project_move(project=self.get_object(), action="start"))

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._done(lists.project_move(project=self.get_object(), action="complete"))

    @extend_schema(request=None, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._done(lists.project_move(project=self.get_object(), action="cancel"))

    @extend_schema(request=MilestoneSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def milestones(self, request, pk=None):
        """Add a milestone, or with `id` set a milestone's progress."""
        project = self.get_object()
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send one milestone as an object.")]})
        milestone_id = request.data.get("id")
        if milestone_id not in (None, ""):
            number = parse_id(milestone_id)
            milestone = project.milestones.filter(pk=number).first() if number is not None else None
            if milestone is None:
                raise serializers.ValidationError({"id": [_("No such milestone in this project.")]})
            progress = serializers.IntegerField(min_value=0, max_value=100).run_validation(
                request.data.get("progress")
            )
            lists.milestone_progress(milestone=milestone, progress=progress)
        else:
            data = self._payload(MilestoneSerializer)
            lists.milestone_add(
                project=project, title=data["title"], due_on=data.get("due_on"), weight=data.get("weight", 1)
            )
        return self._done(project)


class ClaimViewSet(_Actions, ScopedReadCreateViewSet):
    """Claims (认领) by registered units and party members: start, fulfil with feedback, withdraw."""

    selector = selectors.claim_list
    serializer_class = ClaimSerializer
    filterset_class = _filterset(Claim, {"status": django_filters.CharFilter()})
    action_permissions = {"start": "change", "fulfil": "change", "withdraw": "change"}

    @extend_schema(request=None, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._done(lists.claim_start(claim=self.get_object()))

    @extend_schema(request=FulfilSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, pk=None):
        claim = self.get_object()
        return self._done(lists.claim_fulfil(claim=claim, **self._payload(FulfilSerializer)))

    @extend_schema(request=ClaimNoteSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        claim = self.get_object()
        return self._done(lists.claim_withdraw(claim=claim, note=self._payload(ClaimNoteSerializer)["note"]))


class RegistrationViewSet(_Actions, ScopedReadCreateViewSet):
    """双报到: units and in-service party members registering with a community."""

    selector = selectors.registration_list
    serializer_class = RegistrationSerializer
    filterset_class = _filterset(CommunityRegistration, {"status": django_filters.CharFilter()})
    action_permissions = {"decide": "change", "withdraw": "change"}

    @extend_schema(request=DecideSerializer, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        registration = self.get_object()
        data = self._payload(DecideSerializer)
        return self._done(
            lists.registration_decide(registration=registration, accept=data["accept"], actor=request.user)
        )

    @extend_schema(request=None, responses=RegistrationSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._done(lists.registration_withdraw(registration=self.get_object()))


class TopicViewSet(_Actions, ScopedReadCreateViewSet):
    """Deliberation (议事): participants, meetings, options, one ballot each, decision, implementation."""

    selector = selectors.topic_list
    serializer_class = TopicSerializer
    filterset_class = _filterset(Topic, {"status": django_filters.CharFilter()})
    action_permissions = {
        "participants": "change",
        "meetings": "change",
        "add_option": "change",
        "open_vote": "change",
        "ballots": "change",
        "decide": "change",
        "implement": "change",
        "finish": "change",
    }

    @extend_schema(request=ParticipantSerializer, responses=ParticipantSerializer)
    @action(detail=True, methods=["post"])
    def participants(self, request, pk=None):
        topic = self.get_object()
        data = self._payload(ParticipantSerializer)
        return Response(
            ParticipantSerializer(deliberation.participant_add(topic=topic, **data)).data, status=201
        )

    @extend_schema(request=MeetingSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def meetings(self, request, pk=None):
        topic = self.get_object()
        data = self._payload(MeetingSerializer)
        deliberation.meeting_record(
            topic=topic,
            held_at=data["held_at"],
            minutes=data["minutes"],
            place=data["place"],
            attendees=data.get("attendees", []),
        )
        return self._done(topic)

    # Not named `options`: that would replace the view's handler of HTTP OPTIONS.
    @extend_schema(request=OptionSerializer, responses=OptionSerializer)
    @action(detail=True, methods=["post"], url_path="options", url_name="options")
    def add_option(self, request, pk=None):
        topic = self.get_object()
        data = self._payload(OptionSerializer)
        option = deliberation.option_add(
            topic=topic, title=data["title"], description=data.get("description", "")
        )
        return Response(OptionSerializer(option).data, status=201)

    @extend_schema(request=None, responses=TopicSerializer)
    @action(detail=True, methods=["post"], url_path="open-vote")
    def open_vote(self, request, pk=None):
        return self._done(deliberation.voting_open(topic=self.get_object()))

    @extend_schema(request=BallotSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def ballots(self, request, pk=None):
        topic = self.get_object()
        data = self._payload(BallotSerializer)
        deliberation.ballot_cast(topic=topic, **data)
        return self._done(topic)

    @extend_schema(request=TopicDecisionSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        topic = self.get_object()
        data = self._payload(TopicDecisionSerializer)
        return self._done(
            deliberation.topic_decide(topic=topic, actor=request.user, decision=data["decision"])
        )

    @extend_schema(request=ImplementSerializer, responses=ProjectSerializer)
    @action(detail=True, methods=["post"])
    def implement(self, request, pk=None):
        topic = self.get_object()
        project = deliberation.topic_implement(topic=topic, **self._payload(ImplementSerializer))
        return Response(ProjectSerializer(project, context=self.get_serializer_context()).data, status=201)

    @extend_schema(request=FinishSerializer, responses=TopicSerializer)
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        topic = self.get_object()
        return self._done(deliberation.topic_finish(topic=topic, **self._payload(FinishSerializer)))

from rest_framework import serializers

from demands import workflow
from demands.choices import RatingSource
from demands.models import Ticket, TicketCategory, TicketEvent, TicketPhoto
from grid.api.fields import ScopedModelSerializer, ScopedRelatedField
from grid.models import GridNode, User
from residents.identity import mask_phone
from residents.models import Resident


class CategorySerializer(ScopedModelSerializer):
    class Meta:
        model = TicketCategory
        fields = ["id", "code", "name", "group", "description", "response_hours", "resolution_hours"]


class PhotoSerializer(ScopedModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = TicketPhoto
        fields = ["id", "url", "width", "height", "event"]

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(obj.image.url) if request else obj.image.url


class EventSerializer(ScopedModelSerializer):
    actor_name = serializers.SerializerMethodField()
    assignee_name = serializers.CharField(source="assignee.__str__", read_only=True, default="")

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "actor",
            "actor_name",
            "assignee",
            "assignee_name",
            "note",
            "created_at",
        ]

    def get_actor_name(self, obj) -> str:
        return obj.actor_name


class TicketSerializer(ScopedModelSerializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=TicketCategory.objects.filter(is_active=True)
    )
    category_name = serializers.CharField(source="category.name", read_only=True)
    node = ScopedRelatedField(related_model=GridNode)
    node_name = serializers.CharField(source="node.name", read_only=True)
    reporter_resident = ScopedRelatedField(related_model=Resident, required=False, allow_null=True)
    assignee_name = serializers.CharField(source="assignee.__str__", read_only=True, default="")
    reporter_phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=20)
    reporter_phone_masked = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "tracking_code",
            "category",
            "category_name",
            "node",
            "node_name",
            "source",
            "status",
            "level",
            "description",
            "location_text",
            "latitude",
            "longitude",
            "reporter_resident",
            "reporter_name",
            "reporter_phone",
            "reporter_phone_masked",
            "assignee",
            "assignee_name",
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
            "created_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = [
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
            "created_at",
            "updated_at",
        ]

    def get_reporter_phone_masked(self, obj) -> str:
        return mask_phone(obj.reporter_phone)

    def get_allowed_actions(self, obj) -> list[str]:
        return workflow.allowed_actions(obj.status)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ResolveSerializer(NoteSerializer):
    photos = serializers.ListField(child=serializers.ImageField(), required=False, max_length=4, default=list)


class AssignSerializer(NoteSerializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))


class DuplicateSerializer(NoteSerializer):
    original = serializers.SlugRelatedField(slug_field="tracking_code", queryset=Ticket.objects.all())


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    source = serializers.ChoiceField(choices=RatingSource.choices, default=RatingSource.CALLBACK)


class PhoneSerializer(serializers.Serializer):
    reporter_phone = serializers.CharField()

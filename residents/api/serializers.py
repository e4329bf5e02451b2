from django.utils.translation import gettext as _
from rest_framework import serializers

from grid.api.fields import ScopedModelSerializer, ScopedRelatedField
from residents import identity, services
from residents.choices import SENSITIVE_TAGS, CareTagKind, Colour, ResidentStatus
from residents.models import CareTag, Household, Resident
from residents.selectors import age_band_of


class HouseholdSerializer(ScopedModelSerializer):
    node = ScopedRelatedField(related_model=Household._meta.get_field("node").related_model)
    address = serializers.CharField(read_only=True)
    head_name = serializers.CharField(source="head.name", read_only=True, default="")
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Household
        fields = [
            "id",
            "node",
            "address",
            "room",
            "housing_kind",
            "head",
            "head_name",
            "colour",
            "member_count",
            "notes",
        ]
        read_only_fields = ["head", "colour"]

    def create(self, validated_data):
        return services.household_create(**validated_data)

    def update(self, instance, validated_data):
        return services.household_update(household=instance, **validated_data)


class CareTagSerializer(ScopedModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = CareTag
        fields = ["id", "kind", "kind_display", "grade", "since", "until", "note"]


class ResidentSerializer(ScopedModelSerializer):
    """Masked identifiers always; sensitive fields only for roles with the right, and logged.

    The view passes `sensitive_ok(path)` and a `sensitive_seen` list in the context.
    """

    household = ScopedRelatedField(related_model=Household)
    address = serializers.CharField(source="household.address", read_only=True)
    id_number = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=30)
    phone = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=30)
    phone_masked = serializers.SerializerMethodField()
    age = serializers.IntegerField(read_only=True)
    age_band = serializers.SerializerMethodField()
    care_tags = serializers.SerializerMethodField()
    gender = serializers.ChoiceField(choices=Resident._meta.get_field("gender").choices, required=False)
    birth_date = serializers.DateField(required=False)

    class Meta:
        model = Resident
        fields = [
            "id",
            "household",
            "address",
            "name",
            "gender",
            "birth_date",
            "age",
            "age_band",
            "id_number",
            "id_number_masked",
            "phone",
            "phone_masked",
            "relation",
            "residence_kind",
            "ethnicity",
            "political_status",
            "colour",
            "status",
            "status_changed_on",
            "care_tags",
            "health_notes",
            "notes",
        ]
        read_only_fields = ["id_number_masked", "colour", "status", "status_changed_on"]

    def get_phone_masked(self, obj) -> str:
        return identity.mask_phone(obj.phone)

    def get_age_band(self, obj) -> str:
        return age_band_of(obj.age)

    def get_care_tags(self, obj) -> list[dict]:
        tags = getattr(obj, "current_tags", None)
        if tags is None:
            tags = list(obj.care_tags.filter(until__isnull=True))
        if not self._sensitive_ok(obj):
            tags = [tag for tag in tags if tag.kind not in SENSITIVE_TAGS]
        return CareTagSerializer(tags, many=True).data

    def _sensitive_ok(self, obj) -> bool:
        check = self.context.get("sensitive_ok")
        return bool(check and check(obj.household.node.path))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self._sensitive_ok(instance):
            data.pop("health_notes", None)
        else:
            tags = getattr(instance, "current_tags", [])
            if services.has_sensitive_content(instance, tags):
                self.context.setdefault("sensitive_seen", []).append(instance)
        return data

    def validate(self, attrs):
        if "health_notes" in attrs:
            household = attrs.get("household") or getattr(self.instance, "household", None)
            if household is None or not (self.context.get("sensitive_ok") or (lambda p: False))(
                household.node.path
            ):
                raise serializers.ValidationError(
                    {"health_notes": _("You may not record health information.")}
                )
        return attrs

    def create(self, validated_data):
        return services.resident_create(**validated_data)

    def update(self, instance, validated_data):
        return services.resident_update(resident=instance, **validated_data)


class RevealSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=[("id_number", "id_number"), ("phone", "phone")])


class RevealResultSerializer(serializers.Serializer):
    field = serializers.CharField()
    value = serializers.CharField()


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ResidentStatus.choices)
    on = serializers.DateField(required=False)


class ColourSerializer(serializers.Serializer):
    colour = serializers.ChoiceField(choices=[("", "—"), *Colour.choices], allow_blank=True)
    reason = serializers.CharField(max_length=200)
    whole_household = serializers.BooleanField(default=True)


class TagAddSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CareTagKind.choices)
    grade = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=4)
    since = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TagEndSerializer(serializers.Serializer):
    tag = serializers.IntegerField()
    until = serializers.DateField(required=False)


class SituationTableSerializer(serializers.Serializer):
    title = serializers.CharField()
    node = serializers.IntegerField()
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField())

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from grid import services
from grid.api.fields import ScopedRelatedField
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership, PartyOrganization, User


class NodeSerializer(serializers.ModelSerializer):
    parent = ScopedRelatedField(related_model=GridNode, allow_null=True, required=False)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    children_count = serializers.IntegerField(source="numchild", read_only=True)
    is_archived = serializers.BooleanField(read_only=True)

    class Meta:
        model = GridNode
        fields = [
            "id",
            "code",
            "name",
            "level",
            "level_display",
            "parent",
            "depth",
            "children_count",
            "geometry",
            "is_archived",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["depth", "archived_at", "created_at", "updated_at"]

    def validate(self, attrs):
        if self.instance is not None and "level" in attrs and attrs["level"] != self.instance.level:
            raise serializers.ValidationError({"level": _("The level of an existing node cannot change.")})
        if self.instance is not None and "code" in attrs and attrs["code"].strip() != self.instance.code:
            # Printed in the node's QR codes (`/r/<code>/`).
            raise serializers.ValidationError(
                {"code": _("A node's code never changes: its QR codes use it.")}
            )
        if self.instance is None and attrs.get("parent") is None:
            request = self.context.get("request")
            if request is None or not request.user.is_superuser:
                raise serializers.ValidationError(
                    {"parent": _("Choose the parent node: only a system administrator starts a new street.")}
                )
        return attrs

    def create(self, validated_data):
        return services.node_create(
            parent=validated_data.get("parent"),
            level=validated_data["level"],
            code=validated_data["code"],
            name=validated_data["name"],
            geometry=validated_data.get("geometry"),
        )

    @transaction.atomic  # a rename and a refused move: neither is kept
    def update(self, instance, validated_data):
        validated_data.pop("level", None)
        parent = validated_data.pop("parent", instance.parent)
        if validated_data:
            instance = services.node_update(node=instance, **validated_data)
        if parent is not None and parent.pk != instance.parent_id:
            instance = services.node_move(node=instance, new_parent=parent)
        elif parent is None and instance.parent_id is not None:
            raise serializers.ValidationError({"parent": _("A node cannot be moved to the top of the tree.")})
        return instance


class PartyOrganizationSerializer(serializers.ModelSerializer):
    parent = ScopedRelatedField(related_model=PartyOrganization, allow_null=True, required=False)
    node = ScopedRelatedField(related_model=GridNode)
    node_name = serializers.CharField(source="node.name", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    member_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = PartyOrganization
        fields = [
            "id",
            "name",
            "level",
            "level_display",
            "parent",
            "node",
            "node_name",
            "secretary_name",
            "established_on",
            "member_count",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]

    def validate(self, attrs):
        if self.instance is not None:
            for field in ("level", "parent"):
                if field in attrs and attrs[field] != getattr(self.instance, field):
                    raise serializers.ValidationError(
                        {field: _("This cannot change once the organization exists.")}
                    )
        return attrs

    def create(self, validated_data):
        return services.party_organization_create(**validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("level", None)
        validated_data.pop("parent", None)
        return services.party_organization_update(organization=instance, **validated_data)


class PartyMembershipSerializer(serializers.ModelSerializer):
    organization = ScopedRelatedField(related_model=PartyOrganization)
    work_unit = ScopedRelatedField(related_model=CoBuildingUnit, allow_null=True, required=False)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = PartyMembership
        fields = [
            "id",
            "name",
            "gender",
            "kind",
            "organization",
            "organization_name",
            "work_unit",
            "joined_on",
            "registered_on",
            "left_on",
        ]
        read_only_fields = ["left_on"]

    def create(self, validated_data):
        return services.party_membership_create(**validated_data)


class UnitSerializer(serializers.ModelSerializer):
    community = ScopedRelatedField(related_model=GridNode)
    community_name = serializers.CharField(source="community.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    party_member_count = serializers.IntegerField(read_only=True, default=0)
    agreement_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = CoBuildingUnit
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "community",
            "community_name",
            "address",
            "contact_name",
            "contact_phone",
            "agreement_signed_on",
            "agreement_ends_on",
            "agreement_active",
            "committee_member",
            "offer_summary",
            "party_member_count",
            "archived_at",
        ]
        read_only_fields = ["archived_at"]

    def create(self, validated_data):
        return services.unit_create(**validated_data)

    def update(self, instance, validated_data):
        return services.unit_update(unit=instance, **validated_data)


class AssignmentSerializer(serializers.ModelSerializer):
    user = ScopedRelatedField(related_model=User)
    node = ScopedRelatedField(related_model=GridNode)
    user_name = serializers.CharField(source="user.__str__", read_only=True)
    node_name = serializers.CharField(source="node.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = Assignment
        fields = [
            "id",
            "user",
            "user_name",
            "node",
            "node_name",
            "role",
            "role_display",
            "is_primary",
            "started_on",
            "ended_on",
        ]
        read_only_fields = ["ended_on"]
        # The service checks "one open role per person and node" and "one A post" with clear messages.
        validators = []

    def create(self, validated_data):
        return services.assignment_create(**validated_data)


class AssignmentEndSerializer(serializers.Serializer):
    ended_on = serializers.DateField(required=False)

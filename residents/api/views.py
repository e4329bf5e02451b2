from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grid.api.views import ScopedReadCreateUpdateViewSet
from grid.models import GridNode
from grid.scope import node_in_scope, object_in_scope, path_checker
from grid.validators import parse_id
from residents import selectors, services, tables
from residents.api.serializers import (
    CareTagSerializer,
    ColourSerializer,
    HouseholdSerializer,
    ResidentSerializer,
    RevealResultSerializer,
    RevealSerializer,
    SituationTableSerializer,
    StatusSerializer,
    TagAddSerializer,
    TagEndSerializer,
)
from residents.choices import SENSITIVE_TAGS, AccessAction
from residents.filtersets import HouseholdFilterSet, ResidentFilterSet
from residents.models import CareTag, Resident


class HouseholdViewSet(ScopedReadCreateUpdateViewSet):
    """Households (户) at buildings and units."""

    selector = selectors.household_list
    serializer_class = HouseholdSerializer
    filterset_class = HouseholdFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("node__parent")


class ResidentViewSet(ScopedReadCreateUpdateViewSet):
    """Residents, with ID numbers and phones masked. Health, disability and low-income data are
    returned only to roles that need them, and each such view is logged; `reveal` returns a full
    ID number or phone to a role allowed to see it, and is logged too."""

    selector = selectors.resident_list
    serializer_class = ResidentSerializer
    filterset_class = ResidentFilterSet
    action_permissions = {
        "reveal": "view",
        "set_status": "change",
        "colour": "change",
        "add_tag": "change",
        "end_tag": "change",
    }

    def get_queryset(self):
        return super().get_queryset().select_related("household__node__parent")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["sensitive_ok"] = path_checker(self.request.user, "residents.view_sensitive_resident")
        context["sensitive_seen"] = []
        self._context = context
        return context

    def finalize_response(self, request, response, *args, **kwargs):
        seen = getattr(self, "_context", {}).get("sensitive_seen")
        if seen and 200 <= response.status_code < 300:
            services.access_log(
                user=request.user,
                residents=seen,
                action=AccessAction.VIEW_SENSITIVE,
                fields="care_tags,health_notes",
                where=services.log_where(request),
            )
        return super().finalize_response(request, response, *args, **kwargs)

    def _refreshed(self, resident):
        return self.get_serializer(self.get_queryset().get(pk=resident.pk)).data

    @extend_schema(request=RevealSerializer, responses=RevealResultSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        resident = self.get_object()
        payload = RevealSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        field = payload.validated_data["field"]
        permission = services.REVEAL_PERMISSIONS[field]
        if not object_in_scope(request.user, resident, permission):
            raise PermissionDenied(_("Your role may not see this resident's full number."))
        value = services.identity_reveal(
            resident=resident, user=request.user, field=field, where=request.path
        )
        return Response({"field": field, "value": value})

    @extend_schema(request=StatusSerializer, responses=ResidentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        resident = self.get_object()
        payload = StatusSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.resident_set_status(resident=resident, **payload.validated_data)
        return Response(self._refreshed(resident))

    @extend_schema(request=ColourSerializer, responses=ResidentSerializer)
    @action(detail=True, methods=["post"])
    def colour(self, request, pk=None):
        resident = self.get_object()
        if not object_in_scope(request.user, resident.household, "residents.add_colourmark"):
            raise PermissionDenied
        payload = ColourSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        services.colour_set(
            household=resident.household,
            resident=None if data["whole_household"] else resident,
            colour=data["colour"],
            reason=data["reason"],
            actor=request.user,
        )
        return Response(self._refreshed(resident))

    @extend_schema(request=TagAddSerializer, responses=CareTagSerializer)
    @action(detail=True, methods=["post"], url_path="tags")
    def add_tag(self, request, pk=None):
        resident = self.get_object()
        payload = TagAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if payload.validated_data["kind"] in SENSITIVE_TAGS and not object_in_scope(
            request.user, resident, "residents.view_sensitive_resident"
        ):
            raise PermissionDenied(_("Your role may not record sensitive care groups."))
        tag = services.care_tag_add(resident=resident, **payload.validated_data)
        return Response(CareTagSerializer(tag).data, status=201)

    @extend_schema(request=TagEndSerializer, responses=CareTagSerializer)
    @action(detail=True, methods=["post"], url_path="tags/end")
    def end_tag(self, request, pk=None):
        resident = self.get_object()
        payload = TagEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        tag = CareTag.objects.filter(resident=resident, pk=payload.validated_data["tag"]).first()
        if tag is None or (
            tag.kind in SENSITIVE_TAGS
            and not object_in_scope(request.user, resident, "residents.view_sensitive_resident")
        ):
            raise Http404
        tag = services.care_tag_update(
            tag=tag, until=payload.validated_data.get("until") or timezone.localdate()
        )
        return Response(CareTagSerializer(tag).data)


class SituationViewSet(viewsets.ViewSet):
    """The community situation tables for a node's subtree: `population`, `care-groups`, `key-households`."""

    lookup_value_regex = "population|care-groups|key-households"

    def get_queryset(self):
        # For the role permission check: reading the tables needs `residents.view_resident`.
        return Resident.objects.none()

    @extend_schema(
        parameters=[OpenApiParameter("node", OpenApiTypes.INT, required=True)],
        responses=SituationTableSerializer,
    )
    def retrieve(self, request, pk=None):
        node_pk = parse_id(request.query_params.get("node"))
        node = GridNode.objects.filter(pk=node_pk).first() if node_pk is not None else None
        if node is None or not node_in_scope(request.user, node, "residents.view_resident"):
            raise Http404
        table = tables.build(pk, node, request.user)
        return Response({"title": table.title, "node": node.pk, "columns": table.columns, "rows": table.rows})

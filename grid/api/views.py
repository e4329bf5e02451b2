from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from grid import selectors, services
from grid.api.serializers import (
    AssignmentEndSerializer,
    AssignmentSerializer,
    NodeSerializer,
    PartyMembershipSerializer,
    PartyOrganizationSerializer,
    UnitSerializer,
)
from grid.filtersets import (
    AssignmentFilterSet,
    NodeFilterSet,
    PartyMembershipFilterSet,
    PartyOrganizationFilterSet,
    UnitFilterSet,
)
from grid.idempotency import run_once, scope_for, valid_key

_RemoveResult = inline_serializer("NodeRemoveResult", fields={"result": serializers.CharField()})


class IdempotentWritesMixin:
    """Any POST sent with an `Idempotency-Key` header runs once: a repeat with the same key (and
    the same request) gets the first answer back, marked `Idempotent-Replayed: true`, and writes
    nothing; the same key with a different request is a 409. Refusals are not remembered, so a
    corrected request may reuse its key."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get("Idempotency-Key")
        handler = getattr(self, "post", None)  # none on a route without writes: DRF answers 405
        if request.method != "POST" or key is None or handler is None:
            return
        if not valid_key(key):
            raise serializers.ValidationError(
                {"Idempotency-Key": ["8-100 letters, digits, '-', '_', '.', ':'."]}
            )

        def once(request, *args, **kwargs):
            def act():
                response = handler(request, *args, **kwargs)
                return response.status_code, response.data

            code, body, replayed = run_once(
                scope=scope_for(request), key=key, endpoint=request.path, request=request._request, action=act
            )
            response = Response(body, status=code)
            response["Idempotent-Replayed"] = "true" if replayed else "false"
            return response

        self.post = once


class ScopedViewSetMixin(IdempotentWritesMixin):
    """Every queryset comes from a selector that applies the scope rule."""

    selector = None

    def get_queryset(self):
        return type(self).selector(user=self.request.user)


class ScopedReadCreateViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """List, read and create; records with history are ended or archived, never deleted."""


class ScopedReadCreateUpdateViewSet(ScopedReadCreateViewSet, mixins.UpdateModelMixin):
    pass


class NodeViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """The grid tree. `?node=<id>` is the node with its subtree; `?parent=<id>` its direct children."""

    selector = selectors.node_list
    serializer_class = NodeSerializer
    filterset_class = NodeFilterSet
    action_permissions = {"archive": "change", "restore": "change", "destroy": "change"}

    @extend_schema(responses={200: _RemoveResult, 204: None})
    def destroy(self, request, *args, **kwargs):
        """Delete a node nothing points at; a node with history is archived instead."""
        result = services.node_remove(node=self.get_object())
        if result == "deleted":
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response({"result": result})

    @extend_schema(request=None, responses=NodeSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        node = self.get_object()
        services.node_archive(node=node)
        node.refresh_from_db()
        return Response(self.get_serializer(node).data)

    @extend_schema(request=None, responses=NodeSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        node = self.get_object()
        services.node_restore(node=node)
        node.refresh_from_db()
        return Response(self.get_serializer(node).data)


class PartyOrganizationViewSet(ScopedReadCreateUpdateViewSet):
    selector = selectors.party_organization_list
    serializer_class = PartyOrganizationSerializer
    filterset_class = PartyOrganizationFilterSet
    action_permissions = {"archive": "change"}

    @extend_schema(request=None, responses=PartyOrganizationSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        organization = self.get_object()
        services.party_organization_archive(organization=organization)
        return Response(self.get_serializer(self.get_queryset().get(pk=organization.pk)).data)


class PartyMembershipViewSet(ScopedReadCreateViewSet):
    """Party members with their organization; `end` records that a membership ended."""

    selector = selectors.party_membership_list
    serializer_class = PartyMembershipSerializer
    filterset_class = PartyMembershipFilterSet
    action_permissions = {"end": "change"}

    @extend_schema(request=AssignmentEndSerializer, responses=PartyMembershipSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        membership = self.get_object()
        payload = AssignmentEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.party_membership_end(membership=membership, left_on=payload.validated_data.get("ended_on"))
        return Response(self.get_serializer(membership).data)


class UnitViewSet(ScopedReadCreateUpdateViewSet):
    """Co-building units (双报到单位 / 共建单位) and their agreements with communities."""

    selector = selectors.unit_list
    serializer_class = UnitSerializer
    filterset_class = UnitFilterSet
    action_permissions = {"archive": "change"}

    @extend_schema(request=None, responses=UnitSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        unit = services.unit_archive(unit=self.get_object())
        return Response(self.get_serializer(self.get_queryset().get(pk=unit.pk)).data)


class AssignmentViewSet(ScopedReadCreateViewSet):
    """Who holds which role on which node. `end` closes an assignment; `make-primary` moves the A post."""

    selector = selectors.assignment_list
    serializer_class = AssignmentSerializer
    filterset_class = AssignmentFilterSet
    action_permissions = {"end": "change", "make_primary": "change"}

    @extend_schema(request=AssignmentEndSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        assignment = self.get_object()
        payload = AssignmentEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.assignment_end(assignment=assignment, ended_on=payload.validated_data.get("ended_on"))
        return Response(self.get_serializer(assignment).data)

    @extend_schema(request=None, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"], url_path="make-primary")
    def make_primary(self, request, pk=None):
        assignment = services.assignment_set_primary(assignment=self.get_object())
        return Response(self.get_serializer(assignment).data)

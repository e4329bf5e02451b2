from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from demands import photos as photo_checks
from demands import selectors, services
from demands.api.serializers import (
    AssignSerializer,
    CategorySerializer,
    DuplicateSerializer,
    EventSerializer,
    NoteSerializer,
    PhoneSerializer,
    RatingSerializer,
    ResolveSerializer,
    TicketSerializer,
)
from demands.choices import TicketSource
from demands.filtersets import TicketFilterSet
from demands.models import TicketCategory
from grid.api.views import ScopedReadCreateViewSet
from grid.scope import object_in_scope

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="A repeat with the same key returns the first result and creates nothing new.",
)


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Ticket categories with their deadlines (also the Open311 services)."""

    serializer_class = CategorySerializer
    queryset = TicketCategory.objects.filter(is_active=True).order_by("order", "code")
    pagination_class = None


class TicketViewSet(ScopedReadCreateViewSet):
    """Tickets in the caller's area. Each action is one step of the closed loop; an action the
    ticket's status does not allow, or one someone else took first, answers 409."""

    selector = selectors.ticket_list
    serializer_class = TicketSerializer
    filterset_class = TicketFilterSet
    action_permissions = {
        "accept": "change",
        "resolve": "change",
        "return_": "change",
        "escalate": "change",
        "close": "dispatch",
        "reopen": "dispatch",
        "reject": "dispatch",
        "assign": "dispatch",
        "duplicate": "dispatch",
        "rating": "dispatch",
        "events": "view",
        "reveal_phone": "reveal_reporter",
    }

    @extend_schema(parameters=[IDEMPOTENCY_HEADER])
    def create(self, request, *args, **kwargs):
        """Sent twice with one Idempotency-Key (a weak network), still one ticket: see
        IdempotentWritesMixin, which every scoped viewset has."""
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.ticket_create(
            category=data["category"],
            node=data["node"],
            source=data.get("source") or TicketSource.STAFF,
            description=data["description"],
            location_text=data.get("location_text", ""),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            reporter_resident=data.get("reporter_resident"),
            reporter_name=data.get("reporter_name", "") or getattr(data.get("reporter_resident"), "name", ""),
            reporter_phone=data.get("reporter_phone", ""),
            created_by=self.request.user,
        )

    def _done(self, ticket):
        return Response(self.get_serializer(self.get_queryset().get(pk=ticket.pk)).data)

    def _payload(self, serializer_class):
        payload = serializer_class(data=self.request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        return payload.validated_data

    @extend_schema(request=None, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._done(services.ticket_accept(ticket=self.get_object(), actor=request.user))

    @extend_schema(request=ResolveSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        ticket = self.get_object()
        data = self._payload(ResolveSerializer)
        photos = photo_checks.clean_photos(data["photos"])
        return self._done(
            services.ticket_resolve(ticket=ticket, actor=request.user, note=data["note"], photos=photos)
        )

    @extend_schema(request=NoteSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        ticket = self.get_object()
        return self._done(
            services.ticket_return(
                ticket=ticket, actor=request.user, note=self._payload(NoteSerializer)["note"]
            )
        )

    @extend_schema(request=NoteSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        ticket = self.get_object()
        note = self._payload(NoteSerializer)["note"]
        return self._done(services.ticket_escalate(ticket=ticket, actor=request.user, note=note))

    @extend_schema(request=NoteSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        ticket = self.get_object()
        return self._done(
            services.ticket_close(
                ticket=ticket, actor=request.user, note=self._payload(NoteSerializer)["note"]
            )
        )

    @extend_schema(request=NoteSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        ticket = self.get_object()
        return self._done(
            services.ticket_reopen(
                ticket=ticket, actor=request.user, note=self._payload(NoteSerializer)["note"]
            )
        )

    @extend_schema(request=NoteSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        ticket = self.get_object()
        return self._done(
            services.ticket_reject(
                ticket=ticket, actor=request.user, note=self._payload(NoteSerializer)["note"]
            )
        )

    @extend_schema(request=AssignSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        ticket = self.get_object()
        data = self._payload(AssignSerializer)
        return self._done(
            services.ticket_assign(
                ticket=ticket, actor=request.user, assignee=data["assignee"], note=data["note"]
            )
        )

    @extend_schema(request=DuplicateSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        ticket = self.get_object()
        data = self._payload(DuplicateSerializer)
        original = selectors.ticket_list(user=request.user).filter(pk=data["original"].pk).first()
        if original is None:
            raise PermissionDenied
        return self._done(
            services.ticket_mark_duplicate(
                ticket=ticket, actor=request.user, original=original, note=data["note"]
            )
        )

    @extend_schema(request=RatingSerializer, responses=TicketSerializer)
    @action(detail=True, methods=["post"])
    def rating(self, request, pk=None):
        """Record the reporter's rating, e.g. from a phone callback (回访)."""
        ticket = self.get_object()
        data = self._payload(RatingSerializer)
        return self._done(
            services.ticket_rate(
                ticket=ticket,
                rating=data["rating"],
                comment=data["comment"],
                source=data["source"],
                actor=request.user,
            )
        )

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        ticket = self.get_object()
        events = ticket.events.select_related("actor", "assignee").order_by("created_at", "id")
        return Response(EventSerializer(events, many=True).data)

    @extend_schema(request=None, responses=PhoneSerializer)
    @action(detail=True, methods=["post"], url_path="reveal-phone")
    def reveal_phone(self, request, pk=None):
        ticket = self.get_object()
        if not object_in_scope(request.user, ticket, "demands.reveal_reporter_ticket"):
            raise PermissionDenied
        return Response({"reporter_phone": services.phone_reveal(ticket=ticket, actor=request.user)})

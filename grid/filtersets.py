import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grid.choices import NodeLevel, PartyLevel, PartyMemberKind, Role, UnitKind
from grid.models import Assignment, CoBuildingUnit, GridNode, PartyMembership, PartyOrganization


class SubtreeFilter(django_filters.NumberFilter):
    """`?node=<id>`: the node and everything under it, through the model's scope field.

    An unknown node, or one outside the caller's scope, simply yields nothing: the queryset
    being filtered is already scoped, and the filter reveals nothing about other nodes.
    """

    def __init__(self, *args, field: str | None = None, **kwargs):
        kwargs.setdefault("label", _("Node (with its subtree)"))
        super().__init__(*args, **kwargs)
        self.scope_field = field

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        path = GridNode.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return qs.none()
        field = qs.model.SCOPE_NODE_FIELD if self.scope_field is None else self.scope_field
        lookup = f"{field}__path__startswith" if field else "path__startswith"
        return qs.filter(**{lookup: path})


class TextSearchFilter(django_filters.CharFilter):
    """`?q=`: a case-insensitive match on any of the given fields."""

    def __init__(self, *args, fields: tuple[str, ...], **kwargs):
        kwargs.setdefault("label", _("Search"))
        super().__init__(*args, **kwargs)
        self.search_fields = fields

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return qs.filter(condition)


class ArchivedFilter(django_filters.BooleanFilter):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", _("Archived"))
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        return qs.filter(archived_at__isnull=not value)


class NodeFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    parent = django_filters.NumberFilter(field_name="parent", label=_("Parent node (direct children)"))
    level = django_filters.MultipleChoiceFilter(choices=NodeLevel.choices)
    q = TextSearchFilter(fields=("name", "code"))
    archived = ArchivedFilter()

    class Meta:
        model = GridNode
        fields = ["node", "parent", "level", "q", "archived"]


class PartyOrganizationFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    level = django_filters.MultipleChoiceFilter(choices=PartyLevel.choices)
    q = TextSearchFilter(fields=("name", "secretary_name"))
    archived = ArchivedFilter()

    class Meta:
        model = PartyOrganization
        fields = ["node", "level", "q", "archived"]


class PartyMembershipFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    organization = django_filters.NumberFilter(field_name="organization")
    kind = django_filters.MultipleChoiceFilter(choices=PartyMemberKind.choices)
    q = TextSearchFilter(fields=("name",))
    current = django_filters.BooleanFilter(field_name="left_on", lookup_expr="isnull", label=_("Current"))

    class Meta:
        model = PartyMembership
        fields = ["node", "organization", "kind", "q", "current"]


class UnitFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    kind = django_filters.MultipleChoiceFilter(choices=UnitKind.choices)
    q = TextSearchFilter(fields=("name", "contact_name", "address"))
    archived = ArchivedFilter()

    class Meta:
        model = CoBuildingUnit
        fields = ["node", "kind", "q", "archived"]


class AssignmentFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    user = django_filters.NumberFilter(field_name="user")
    role = django_filters.MultipleChoiceFilter(choices=Role.choices)
    is_primary = django_filters.BooleanFilter()
    current = django_filters.BooleanFilter(field_name="ended_on", lookup_expr="isnull", label=_("Current"))
    q = TextSearchFilter(fields=("user__username", "user__name", "node__name"))

    class Meta:
        model = Assignment
        fields = ["node", "user", "role", "is_primary", "current", "q"]

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from demands.choices import Level, TicketSource, TicketStatus
from demands.models import Ticket
from grid.filters import BoundedIsoDateTimeFilter
from grid.filtersets import SubtreeFilter


class TicketFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    status = django_filters.MultipleChoiceFilter(choices=TicketStatus.choices)
    source = django_filters.MultipleChoiceFilter(choices=TicketSource.choices)
    category = django_filters.CharFilter(field_name="category__code", label=_("Category code"))
    level = django_filters.ChoiceFilter(choices=Level.choices)
    overdue = django_filters.BooleanFilter(field_name="is_overdue", label=_("Overdue"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Assigned to me"))
    created_after = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = BoundedIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_q", label=_("Tracking code or text"))

    class Meta:
        model = Ticket
        fields = ["node", "status", "source", "category", "level", "overdue", "mine", "q"]

    def filter_mine(self, queryset, name, value):
        if value is None:
            return queryset
        user = self.request.user
        return queryset.filter(assignee=user) if value else queryset.exclude(assignee=user)

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(tracking_code=value.upper()) | Q(description__contains=value) | Q(location_text__contains=value)
        )

import django_filters
from rest_framework import mixins, serializers, viewsets

from grid.filtersets import SubtreeFilter
from grid.models import MetricValue
from grid.scope import scope_queryset


class MetricValueSerializer(serializers.ModelSerializer):
    node_code = serializers.CharField(source="node.code", read_only=True)

    class Meta:
        model = MetricValue
        fields = [
            "id",
            "node",
            "node_code",
            "metric",
            "period_kind",
            "period_start",
            "dimension",
            "value",
            "denominator",
            "computed_at",
        ]


class MetricFilterSet(django_filters.FilterSet):
    node = django_filters.NumberFilter(field_name="node", label="Node (its own rolled-up row)")
    subtree = SubtreeFilter(label="Every node in the subtree")
    metric = django_filters.CharFilter()
    period_kind = django_filters.ChoiceFilter(
        choices=[(k, k) for k in ("day", "week", "month", "quarter", "year")]
    )
    start = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    end = django_filters.DateFilter(field_name="period_start", lookup_expr="lt")
    dimension = django_filters.CharFilter()

    class Meta:
        model = MetricValue
        fields = ["node", "subtree", "metric", "period_kind", "start", "end", "dimension"]


class MetricViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Rolled-up figures by node, metric, period kind and period; each row covers the node's whole subtree."""

    serializer_class = MetricValueSerializer
    filterset_class = MetricFilterSet

    def get_queryset(self):
        return scope_queryset(MetricValue.objects.select_related("node"), self.request.user).order_by(
            "node__path", "metric", "period_kind", "period_start", "dimension"
        )

import django_filters
from django.utils.translation import gettext_lazy as _

from grid.filtersets import SubtreeFilter, TextSearchFilter
from grid.scope import scope_queryset
from residents.choices import (
    SENSITIVE_TAGS,
    AgeBand,
    CareTagKind,
    Colour,
    HousingKind,
    ResidenceKind,
    ResidentStatus,
)
from residents.models import Household, Resident
from residents.selectors import age_band_condition, search_condition


class HouseholdFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    q = TextSearchFilter(fields=("room", "node__name", "node__code", "head__name"))
    colour = django_filters.MultipleChoiceFilter(choices=Colour.choices)
    housing_kind = django_filters.MultipleChoiceFilter(choices=HousingKind.choices)

    class Meta:
        model = Household
        fields = ["node", "q", "colour", "housing_kind"]


class ResidentFilterSet(django_filters.FilterSet):
    node = SubtreeFilter()
    household = django_filters.NumberFilter(field_name="household")
    q = django_filters.CharFilter(
        method="filter_q", label=_("Name, room, or the last four digits of a phone or ID number")
    )
    tag = django_filters.MultipleChoiceFilter(
        choices=CareTagKind.choices, method="filter_tag", label=_("Care group")
    )
    colour = django_filters.MultipleChoiceFilter(choices=Colour.choices)
    age_band = django_filters.ChoiceFilter(
        choices=AgeBand.choices, method="filter_age_band", label=_("Age band")
    )
    residence_kind = django_filters.MultipleChoiceFilter(choices=ResidenceKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ResidentStatus.choices)

    class Meta:
        model = Resident
        fields = ["node", "household", "q", "tag", "colour", "age_band", "residence_kind", "status"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(search_condition(value, self.request.user))

    def filter_tag(self, queryset, name, values):
        if not values:
            return queryset
        if set(values) & SENSITIVE_TAGS:
            # Filtering by a sensitive group discloses it: only where the caller may see it.
            queryset = scope_queryset(
                queryset, self.request.user, permission="residents.view_sensitive_resident"
            )
        return queryset.filter(care_tags__kind__in=values, care_tags__until__isnull=True).distinct()

    def filter_age_band(self, queryset, name, value):
        return queryset.filter(age_band_condition(value)) if value else queryset

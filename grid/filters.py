"""Filters shared by the API's filter sets."""

import datetime

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django_filters.fields import IsoDateTimeField


class BoundedIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time in years 1900-2999, in UTC before it reaches the database:
    PostgreSQL refuses offsets beyond ±15:59 that Python accepts, and a year 705 is a typo."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        if not 1900 <= value.year <= 2999:
            raise forms.ValidationError(
                _("Enter a date and time between the years 1900 and 2999."), code="out_of_range"
            )
        return value


class BoundedIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = BoundedIsoDateTimeField

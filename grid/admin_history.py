"""The admin's history page for residents, households, tickets and claims (django-simple-history).

Each change is listed with who made it, when, why, and each field's old and new value. Values go
through the same rules as the change form: choices show their label, identifiers stay masked, and
fields a user may not see on the form (health notes, sensitive care groups) show only that they
changed. There is no page per past version and no revert: the list says everything, and a revert
would skip the services' checks.
"""

from django.contrib import admin
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

HIDDEN = object()  # what `history_value` returns for a value the user may not see


class _Helper(HistoricalRecordContextHelper):
    def __init__(self, model, record, *, model_admin, request, obj):
        super().__init__(model, record)
        self.model_admin, self.request, self.obj = model_admin, request, obj

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if field.choices and value not in (None, ""):
            value = dict(field.flatchoices).get(value, value)
        shown = self.model_admin.history_value(self.request, self.obj, change.field, value)
        return _("(changed; not shown to your role)") if shown is HIDDEN else shown


class HistoryAdmin(SimpleHistoryAdmin):
    """A ModelAdmin whose "history" page lists the model's history rows, old and new values."""

    object_history_list_template = "admin/history_list.html"
    history_list_per_page = 50

    def get_urls(self):
        # Not SimpleHistoryAdmin's: it adds a page per past version, which this admin does not offer.
        return admin.ModelAdmin.get_urls(self)

    def history_value(self, request, obj, field_name: str, value):
        """How a field's past value shows on the history page (override to mask or hide)."""
        return value

    def history_extra_context(self, request, obj) -> dict:
        """More for the history page of `obj` (override to list the history of its parts)."""
        return {}

    def history_view(self, request, object_id, extra_context=None):
        from django.http import Http404

        from grid.validators import parse_id

        if parse_id(object_id) is None:  # "abc" would reach the history query as it is
            raise Http404
        # Kept on the request, not on this ModelAdmin, which every thread of the process shares.
        request.history_object = obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context = {**(extra_context or {}), **self.history_extra_context(request, obj)}
        return super().history_view(request, object_id, extra_context)

    def get_historical_record_context_helper(self, request, historical_record):
        obj = getattr(request, "history_object", None)
        return _Helper(self.model, historical_record, model_admin=self, request=request, obj=obj)

"""Build an admin change form's POST data from the page the admin rendered."""

import datetime

from django.contrib.admin.widgets import AdminSplitDateTime
from django.forms import CheckboxInput


def _put(data, form, name):
    bf = form[name]
    value = bf.value()
    key = form.add_prefix(name)
    widget = form.fields[name].widget
    if isinstance(widget, AdminSplitDateTime):
        if isinstance(value, list):
            data[f"{key}_0"], data[f"{key}_1"] = value[0] or "", value[1] or ""
        elif value:
            value = value if isinstance(value, datetime.datetime) else None
            if value:
                data[f"{key}_0"], data[f"{key}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        return
    if isinstance(widget, CheckboxInput):
        if value:
            data[key] = "on"
        return
    if value is None:
        return
    if isinstance(value, (list, tuple)):
        data[key] = [str(getattr(v, "pk", v)) for v in value]
    else:
        data[key] = str(getattr(value, "pk", value))


def form_data(response):
    data = {}
    form = response.context["adminform"].form
    for name in form.fields:
        _put(data, form, name)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for sub in formset.forms:
            for name in sub.fields:
                _put(data, sub, name)
    return data

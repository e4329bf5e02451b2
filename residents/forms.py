from django import forms
from django.utils.translation import gettext_lazy as _

from grid.models import GridNode
from grid.scope import scope_queryset
from residents.choices import ImportMode

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class NodeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return ("　" * (obj.depth - 1)) + obj.name


def node_field(user, permission: str, levels=("street", "community", "grid"), **kwargs) -> NodeChoiceField:
    queryset = scope_queryset(GridNode.objects.filter(level__in=levels), user, permission=permission)
    return NodeChoiceField(queryset=queryset.only("id", "name", "depth", "path"), **kwargs)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Ledger (.xlsx)"))
    mode = forms.ChoiceField(
        label=_("When some rows are bad"),
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"] = node_field(user, "residents.import_resident", label=_("Import into"))
        self.order_fields(["node", "file", "mode"])

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel .xlsx file (the template is below)."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        head = upload.read(4)
        upload.seek(0)
        if head != b"PK\x03\x04":
            raise forms.ValidationError(_("The file is not a readable .xlsx workbook."))
        return upload


class TableForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"] = node_field(user, "residents.view_resident", label=_("Area"))

from django import forms
from django.utils.translation import gettext_lazy as _

from demands.choices import DemandKind
from demands.forms import IdempotentForm, PhotosField
from demands.selectors import active_categories
from residents.choices import Colour


class VisitForm(IdempotentForm):
    findings = forms.CharField(
        label=_("What did you find?"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Write down what you found.")},
    )
    colour = forms.ChoiceField(
        label=_("Colour after the visit"), choices=Colour.choices, widget=forms.RadioSelect
    )
    colour_reason = forms.CharField(label=_("Why the colour changes"), max_length=200, required=False)
    raise_ticket = forms.BooleanField(label=_("Report a problem (ticket)"), required=False)
    ticket_category = forms.ModelChoiceField(
        label=_("Problem category"), queryset=active_categories(), required=False
    )
    ticket_description = forms.CharField(label=_("Problem"), max_length=1000, required=False)
    raise_demand = forms.BooleanField(label=_("Record a need (demand)"), required=False)
    demand_title = forms.CharField(label=_("Need"), max_length=100, required=False)
    demand_kind = forms.ChoiceField(label=_("Kind of need"), choices=DemandKind.choices, required=False)
    photos = PhotosField(label=_("Photos"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("raise_ticket") and not (
            cleaned.get("ticket_category") and cleaned.get("ticket_description")
        ):
            self.add_error("ticket_description", _("Give the problem's category and a description."))
        if cleaned.get("raise_demand") and not cleaned.get("demand_title"):
            self.add_error("demand_title", _("Describe the need in a few words."))
        return cleaned


class SignInForm(IdempotentForm):
    participants = forms.MultipleChoiceField(
        label=_("Who took part"), required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_name = forms.CharField(label=_("Someone else (name)"), max_length=50, required=False)

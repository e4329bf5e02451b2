import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from demands import photos as photo_checks
from demands.selectors import active_categories
from grid.idempotency import valid_key
from grid.validators import normalize_phone, validate_phone


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Up to four photos, each checked and re-encoded (no EXIF/GPS)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = data if isinstance(data, list | tuple) else [data] if data else []
        uploads = [super(PhotosField, self).clean(upload, initial) for upload in uploads]
        try:
            return photo_checks.clean_photos(uploads)
        except forms.ValidationError:
            raise
        except Exception as error:  # a broken upload must read as a form error, never a 500
            raise forms.ValidationError(_("The file is not a photo we can read.")) from error


class IdempotentForm(forms.Form):
    """A form that carries its own idempotency key, made when the form is shown: sending the same
    filled-in form twice (a retry on a weak network) acts once."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not valid_key(key):
            raise forms.ValidationError(_("The form has expired; open it again."))
        return key


class PublicReportForm(IdempotentForm):
    category = forms.ModelChoiceField(
        queryset=active_categories(),
        label=_("What kind of problem?"),
        empty_label=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of problem it is.")},
    )
    description = forms.CharField(
        label=_("What is wrong?"),
        max_length=1000,
        min_length=4,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe the problem in a few words.")},
    )
    location_text = forms.CharField(
        label=_("Where exactly? (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. 2nd floor landing of unit 3")}),
    )
    photos = PhotosField(label=_("Photos (optional, up to 4)"))
    reporter_name = forms.CharField(label=_("Your name (optional)"), max_length=50, required=False)
    reporter_phone = forms.CharField(
        label=_("Your phone (optional, for a call back)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # Left empty by people; filled by form-spamming robots.
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_reporter_phone(self):
        phone = normalize_phone(self.cleaned_data["reporter_phone"])
        if phone:
            validate_phone(phone)
        return phone

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError(_("Please try again."))
        return ""


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[
            (5, _("5 · very satisfied")),
            (4, _("4 · satisfied")),
            (3, _("3 · acceptable")),
            (2, _("2 · not satisfied")),
            (1, _("1 · not at all")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a rating.")},
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TicketActionForm(IdempotentForm):
    action = forms.ChoiceField(choices=[(a, a) for a in ("accept", "resolve", "return", "escalate")])
    note = forms.CharField(
        label=_("Note"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    photos = PhotosField(label=_("Photos"))


class PatrolReportForm(IdempotentForm):
    node = forms.ModelChoiceField(queryset=None, label=_("Where"))
    category = forms.ModelChoiceField(queryset=active_categories(), label=_("Category"))
    description = forms.CharField(
        label=_("What did you find?"), max_length=1000, min_length=4, widget=forms.Textarea(attrs={"rows": 4})
    )
    location_text = forms.CharField(label=_("Exact spot"), max_length=200, required=False)
    photos = PhotosField(label=_("Photos"))

    def __init__(self, *args, nodes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node"].queryset = nodes
        self.fields["node"].label_from_instance = lambda n: ("　" * max(0, n.depth - 3)) + n.name

"""Model fields shared by every app."""

from django.db import models

from grid.validators import normalize_phone, validate_phone


class PhoneField(models.CharField):
    """A phone number kept in one form: typed with full-width digits, spaces or a +86 prefix (as
    input methods and copied contacts give it), it is stored as plain digits, whichever form
    (admin, import, API) cleaned it."""

    default_validators = [validate_phone]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 20)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_phone(value) if value else value

    def deconstruct(self):
        # Stored exactly as a CharField with the phone validator: no migration of its own.
        name, _path, args, kwargs = super().deconstruct()
        kwargs["validators"] = [validate_phone]
        return name, "django.db.models.CharField", args, kwargs

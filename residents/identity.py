"""Personal identifiers: the GB 11643 ID number, phone masking, and their protection at rest.

ID numbers are stored three ways: encrypted (Fernet, keys rotatable), as a keyed HMAC for exact
lookup and duplicate detection, and masked for display. The full number is decrypted only for an
explicit, logged reveal.
"""

import base64
import datetime
import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from grid.validators import normalize_phone, normalize_text_digits

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII digits only, not any Unicode digit


def normalize_id_number(value: str) -> str:
    """Without spaces, with full-width digits and Ｘ (as input methods type them) in ASCII."""
    return re.sub(r"\s", "", normalize_text_digits(value)).upper()


def id_check_digit(first17: str) -> str:
    """ISO 7064 MOD 11-2, as GB 11643-1999 prescribes."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def id_birth_date(number: str) -> datetime.date | None:
    try:
        return datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_gender(number: str) -> str:
    """GB 11643: an odd sequence digit is a man, an even one a woman."""
    return "male" if int(number[16]) % 2 else "female"


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Return the normalized number or raise ValidationError (in the active language).

    Mainland ID cards, residence permits of Hong Kong, Macau and Taiwan residents (81/82/83) and
    the new foreigners' permanent-residence numbers (leading 9) share the structure and check digit,
    so the region code is deliberately not checked against any table.
    """
    number = normalize_id_number(value)
    if len(number) == 15 and number.isdigit():  # the first-generation card, replaced since 2004
        raise ValidationError(
            _("This is an old 15-digit ID number; enter the 18-character number of the current card."),
            code="id_old_15",
        )
    if len(number) != 18:
        raise ValidationError(
            _("An ID number has 18 characters; this one has %(count)d.") % {"count": len(number)},
            code="id_length",
        )
    if not _SHAPE.match(number):
        raise ValidationError(_("An ID number is 17 digits followed by a digit or X."), code="id_format")
    birth = id_birth_date(number)
    today = today or datetime.date.today()
    if birth is None or birth > today or birth.year < 1890:
        raise ValidationError(
            _("The birth date inside the ID number is not a real date."), code="id_birth_date"
        )
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit of the ID number is wrong; please check each digit."), code="id_checksum"
        )
    return number


def mask_id_number(number: str) -> str:
    """3701**********1234"""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """138****8000; 0531-****6655 (landlines keep the area code and the last four digits)."""
    phone = normalize_phone(phone)
    if not phone:
        return ""
    if "-" in phone:
        area, _, rest = phone.partition("-")
        return f"{area}-" + "*" * max(0, len(rest) - 4) + rest[-4:]
    if len(phone) <= 7:
        return "*" * (len(phone) - 2) + phone[-2:]
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def _derive(label: bytes) -> bytes:
    return hashlib.sha256(label + settings.SECRET_KEY.encode()).digest()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive(b"pii-encryption:")).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


@lru_cache(maxsize=4)
def _hash_key(key: str) -> bytes:
    return key.encode() if key else _derive(b"pii-lookup-hash:")


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(tuple(settings.PII_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("The stored value cannot be decrypted with the configured keys.") from error


def lookup_hash(value: str) -> str:
    """Keyed hash for exact lookup; without the key the hash says nothing about the number."""
    if not value:
        return ""
    return hmac.new(_hash_key(settings.PII_HASH_KEY), value.encode(), hashlib.sha256).hexdigest()

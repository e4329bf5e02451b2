"""Validators for codes, phones and GeoJSON, shared by every app."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

node_code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$",
    _("Use letters, digits, '-', '_' or '.', starting with a letter or digit (at most 64 characters)."),
)

# ASCII digits only: Python's \d also matches Arabic-Indic, Devanagari... digits.
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$", re.ASCII)


def normalize_text_digits(value: str) -> str:
    """Full-width digits, letters and signs (as Chinese input methods type them) as ASCII."""
    return unicodedata.normalize("NFKC", value or "")


def normalize_phone(value: str) -> str:
    """Strip spaces and a +86 / 0086 prefix so that one number has one stored form."""
    value = re.sub(r"[\s()]", "", normalize_text_digits(value))
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :].lstrip("-")
    return value


def validate_phone(value: str) -> None:
    """A mainland mobile number (11 digits from 13x-19x) or a landline with area code."""
    number = normalize_phone(value)
    if not (_MOBILE.match(number) or _LANDLINE.match(number)):
        raise ValidationError(
            _(
                "Enter a valid mainland mobile number (11 digits) or a landline with area code, "
                "e.g. 0531-88888888."
            ),
            code="invalid_phone",
        )


def _check_position(position, where: str) -> None:
    if (
        not isinstance(position, list | tuple)
        or len(position) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in position[:2])
    ):
        raise ValidationError(
            _("Invalid coordinate in %(where)s.") % {"where": where}, code="invalid_geometry"
        )
    lng, lat = position[0], position[1]
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            _("Coordinate out of range in %(where)s (longitude first, then latitude).") % {"where": where},
            code="invalid_geometry",
        )


def _check_ring(ring, where: str) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise ValidationError(
            _("A polygon ring needs at least four positions in %(where)s.") % {"where": where},
            code="invalid_geometry",
        )
    for position in ring:
        _check_position(position, where)
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise ValidationError(
            _("A polygon ring must end where it starts in %(where)s.") % {"where": where},
            code="invalid_geometry",
        )


def validate_geojson_geometry(value) -> None:
    """A GeoJSON geometry of type Point, Polygon or MultiPolygon, in WGS84 longitude/latitude."""
    if value in (None, ""):
        return
    if not isinstance(value, dict) or "type" not in value or "coordinates" not in value:
        raise ValidationError(
            _("Geometry must be a GeoJSON object with 'type' and 'coordinates'."), code="invalid_geometry"
        )
    kind, coords = value["type"], value["coordinates"]
    if kind == "Point":
        _check_position(coords, "Point")
    elif kind == "Polygon":
        if not isinstance(coords, list) or not coords:
            raise ValidationError(_("A polygon needs at least one ring."), code="invalid_geometry")
        for ring in coords:
            _check_ring(ring, "Polygon")
    elif kind == "MultiPolygon":
        if not isinstance(coords, list) or not coords:
            raise ValidationError(_("A multipolygon needs at least one polygon."), code="invalid_geometry")
        for polygon in coords:
            if not isinstance(polygon, list) or not polygon:
                raise ValidationError(_("A polygon needs at least one ring."), code="invalid_geometry")
            for ring in polygon:
                _check_ring(ring, "MultiPolygon")
    else:
        raise ValidationError(
            _("Geometry type must be Point, Polygon or MultiPolygon, not %(kind)s.") % {"kind": kind},
            code="invalid_geometry",
        )


def parse_id(value) -> int | None:
    """A record id from an address-bar parameter, or None: ASCII digits only ("²".isdigit() is
    true, and int("²") fails), and within a bigint."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)

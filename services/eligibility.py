"""Programme eligibility as data, compiled to one query over residents."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from grid.scope import scope_queryset
from residents.choices import SENSITIVE_TAGS, CareTagKind, Colour, ResidenceKind, ResidentStatus
from residents.models import CareTag, Resident
from residents.selectors import birth_date_bounds

CONDITIONS = {"age_min", "age_max", "tag", "gender", "residence_kind", "colour"}


def validate_rule(rule) -> None:
    """Raise ValidationError unless `rule` is a well-formed {"all"/"any": [...]} tree."""
    if not isinstance(rule, dict) or len(rule) != 1:
        raise ValidationError(_('A rule is {"all": [...]} or {"any": [...]}.'))
    ((key, items),) = rule.items()
    if key in ("all", "any"):
        if not isinstance(items, list) or not items:
            raise ValidationError(_('"%(key)s" needs a non-empty list.') % {"key": key})
        for item in items:
            validate_rule(item)
        return
    if key not in CONDITIONS:
        raise ValidationError(_('Unknown condition "%(key)s".') % {"key": key})
    if key in ("age_min", "age_max") and (not isinstance(items, int) or not 0 <= items <= 130):
        raise ValidationError(_("An age is a whole number from 0 to 130."))
    choices = {
        "tag": CareTagKind.values,
        "gender": ["male", "female"],
        "residence_kind": ResidenceKind.values,
        "colour": Colour.values,
    }
    if key in choices and items not in choices[key]:
        raise ValidationError(_('"%(value)s" is not a valid %(key)s.') % {"value": items, "key": key})


def _condition(rule, on: datetime.date) -> Q:
    ((key, value),) = rule.items()
    if key == "all":
        condition = Q()
        for item in value:
            condition &= _condition(item, on)
        return condition
    if key == "any":
        condition = Q(pk__in=[])
        for item in value:
            condition |= _condition(item, on)
        return condition
    if key == "age_min":
        return birth_date_bounds(value, None, on)
    if key == "age_max":
        return birth_date_bounds(None, value, on)
    if key == "tag":
        current = CareTag.objects.filter(
            Q(until__isnull=True) | Q(until__gt=on), resident=OuterRef("pk"), kind=value, since__lte=on
        )
        return Q(Exists(current))
    if key == "colour":
        return Q(colour=value) | Q(household__colour=value)
    return Q(**{key: value})


def eligible_residents(programme, on: datetime.date | None = None) -> QuerySet[Resident]:
    """Living residents of the programme's area who meet its rule on the given day."""
    on = on or timezone.localdate()
    return Resident.objects.filter(
        _condition(programme.rule, on),
        household__node__path__startswith=programme.node.path,
        status=ResidentStatus.ACTIVE,
    )


def sensitive_tags_in(rule) -> set[str]:
    """The sensitive care groups (disability, low income...) a rule selects by."""
    ((key, value),) = rule.items()
    if key in ("all", "any"):
        return set().union(*(sensitive_tags_in(item) for item in value))
    return {value} if key == "tag" and value in SENSITIVE_TAGS else set()


def visible_eligible(programme, user) -> tuple[QuerySet[Resident], bool]:
    """The eligible residents `user` may see, and whether the list discloses a sensitive group:
    a list selected by one shows a resident only where the user may see that group."""
    residents = scope_queryset(eligible_residents(programme), user)
    sensitive = bool(sensitive_tags_in(programme.rule))
    if sensitive:
        residents = scope_queryset(residents, user, permission="residents.view_sensitive_resident")
    return residents, sensitive


def log_listing(request, residents, sensitive: bool) -> None:
    """A list selected by a sensitive care group discloses it for everyone on it: logged."""
    if sensitive and residents:
        from residents.choices import AccessAction
        from residents.services import access_log

        access_log(
            user=request.user,
            residents=residents,
            action=AccessAction.VIEW_SENSITIVE,
            fields="care_tags",
            where=request.path,
        )

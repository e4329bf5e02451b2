"""Admin building blocks that apply the one scope rule; every app's ModelAdmin uses them."""

import functools

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import ForeignKey, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from grid.choices import NodeLevel
from grid.errors import ConflictError
from grid.models import GridNode
from grid.scope import default_permission, object_in_scope, scope_paths, scope_queryset
from grid.validators import parse_id


def _permission(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _write_permission(model, request) -> str:
    """The right the page writes `model` with: adding on an add page (a role may record meetings
    or ballots without the right to change them), changing elsewhere."""
    match = getattr(request, "resolver_match", None)
    adding = match is not None and (match.url_name or "").endswith("_add")
    return _permission(model, "add" if adding else "change")


def _scoped_choices(related, request, model):
    return scope_queryset(
        related._default_manager.all(), request.user, permission=_write_permission(model, request)
    )


class ScopedChoicesMixin:
    """Foreign-key and many-to-many choices: only related records within the subtree where the
    user may write the page's model; a typed-in id of a record elsewhere is refused."""

    def written_model(self):
        return self.model

    def formfield_for_foreignkey(self, db_field: ForeignKey, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "SCOPE_NODE_FIELD") and "queryset" not in kwargs:
            kwargs["queryset"] = _scoped_choices(related, request, self.written_model())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "SCOPE_NODE_FIELD") and "queryset" not in kwargs:
            kwargs["queryset"] = _scoped_choices(related, request, self.written_model())
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdminMixin(ScopedChoicesMixin):
    """Lists, object pages and foreign-key choices limited to the user's scope."""

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user)

    def _allowed(self, request, obj, action: str) -> bool:
        return obj is None or object_in_scope(request.user, obj, _permission(self.model, action))

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._allowed(request, obj, "view")

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._allowed(request, obj, "change")

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._allowed(request, obj, "delete")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A service's refusal while saving (a duplicate, a state conflict, a rule the form could
        not know) is shown on the form, with what was typed, never a 500: the failed save is
        rolled back, then the form is shown again carrying the refusal as its errors."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, ConflictError) as error:
            if request.method != "POST" or hasattr(request, "_service_refusal"):
                raise
            request._service_refusal = error
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        refusal = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def _post_clean(self):
                super()._post_clean()
                for field, texts in _refusal_messages(refusal):
                    self.add_error(field if field in self.fields else None, texts)

        return Refused

    def get_action(self, action):
        """Every action acts only on the selected objects lying where the user holds the action's
        permissions: the list shows all the user may view, which may be more (a grid chief who
        is also a building lead elsewhere views that building's tickets, but may not reject them)."""
        found = super().get_action(action)
        if found is None:
            return None
        func, name, description = found
        needed = getattr(func, "allowed_permissions", None) or ("change",)
        named = getattr(self, "action_permission_codes", {})  # an action's own right, by its name
        codes = [named.get(p) or _permission(self.model, p) for p in needed]

        @functools.wraps(func)
        def scoped(modeladmin, request, queryset):
            allowed = queryset
            for code in codes:
                allowed = scope_queryset(allowed, request.user, permission=code)
            left = queryset.count() - allowed.count()
            if left:
                modeladmin.message_user(
                    request,
                    ngettext(
                        "%(n)d selected item lies outside where you may do this; it was left alone.",
                        "%(n)d selected items lie outside where you may do this; they were left alone.",
                        left,
                    )
                    % {"n": left},
                    level=messages.WARNING,
                )
            return func(modeladmin, request, allowed)

        return scoped, name, description


class ScopedInlineMixin(ScopedChoicesMixin):
    """An inline's rows choose related records by the same rule, with the right the page writes
    its parent with: a typed-in id of a record elsewhere is refused like an unknown one."""

    def written_model(self):
        return self.parent_model


class SubtreeListFilter(admin.SimpleListFilter):
    """ "In subtree": the chosen street or community and everything under it."""

    title = _("subtree")
    parameter_name = "subtree"
    lookup_levels = (NodeLevel.STREET, NodeLevel.COMMUNITY)

    def lookups(self, request, model_admin):
        # Streets and communities, plus the nodes the user is assigned to (a grid worker's grid),
        # so that every user has at least their own subtree to pick.
        roots = scope_paths(request.user, default_permission(GridNode)) or []
        nodes = scope_queryset(
            GridNode.objects.filter(Q(level__in=self.lookup_levels) | Q(path__in=roots)), request.user
        )
        return [
            (node.pk, ("— " * (node.depth - 1)) + node.name)
            for node in nodes.only("pk", "name", "depth", "path")
        ]

    def queryset(self, request, queryset):
        value = parse_id(self.value())
        if value is None:
            return queryset
        path = GridNode.objects.filter(pk=value).values_list("path", flat=True).first()
        if path is None:
            return queryset.none()
        field = queryset.model.SCOPE_NODE_FIELD
        return queryset.filter(**{f"{field}__path__startswith" if field else "path__startswith": path})


class ArchivedListFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", _("Active")), ("yes", _("Archived"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


def _refusal_messages(error) -> list[tuple[str | None, list[str]]]:
    if isinstance(error, ConflictError):
        return [(None, [str(error.message)])]
    if hasattr(error, "error_dict"):
        return [
            (field if field != NON_FIELD_ERRORS else None, messages)
            for field, messages in error.message_dict.items()
        ]
    return [(None, error.messages)]


def adopt(obj, created):
    """Make the admin's unsaved object the one a service created, so that what the admin does
    next (a permission check on the object, the "added" message, the history) sees all of it,
    including what the service derived (a claim's community, a ticket's deadlines)."""
    for field in created._meta.concrete_fields:
        setattr(obj, field.attname, getattr(created, field.attname))
    obj._state.adding = False
    obj._state.db = created._state.db
    return obj


def run_for_each(modeladmin, request, queryset, call) -> int:
    """Run a service on each selected object of an admin action; a refusal (bad input or a state
    conflict) becomes a message naming the object, never a 500. Returns how many succeeded."""
    from django.contrib import messages

    done = 0
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except (ValidationError, ConflictError) as error:
            text = error.message if isinstance(error, ConflictError) else "; ".join(error.messages)
            modeladmin.message_user(request, f"{obj}: {text}", level=messages.ERROR)
    if done:
        modeladmin.message_user(request, _("%(n)d updated.") % {"n": done})
    return done

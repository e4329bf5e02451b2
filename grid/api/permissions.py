from rest_framework.permissions import BasePermission

from grid.scope import object_in_scope

_METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def action_permission(model, action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


class RolePermissions(BasePermission):
    """The caller's roles must grant the model permission for the method; objects must be in scope.

    Reads of objects outside scope never get here: the scoped queryset already answers 404.
    Views may name `action_permissions = {"archive": "change"}` for extra actions.
    """

    def _action(self, request, view) -> str:
        extra = getattr(view, "action_permissions", {})
        action = getattr(view, "action", None)
        if action in extra:
            return extra[action]
        return _METHOD_ACTIONS.get(request.method, "change")

    def _model(self, view):
        return view.get_queryset().model

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        return user.has_perm(action_permission(self._model(view), self._action(request, view)))

    def has_object_permission(self, request, view, obj) -> bool:
        action = self._action(request, view)
        if action == "view":
            return True
        return object_in_scope(request.user, obj, action_permission(type(obj), action))

"""The one scope rule.

A user may read and act on an object when the object's node lies in the subtree of a node the
user holds a current assignment on, through a role that grants the permission in question.
Superusers see everything; anyone else without such an assignment sees nothing.

Every list (admin, pages, API, exports) narrows its queryset with `scope_queryset`; single
objects are checked with `object_in_scope`. Models declare how they reach their node with
`SCOPE_NODE_FIELD` ("" for the node model itself).
"""

from django.db.models import Model, Q, QuerySet

from grid.permissions import roles_granting


def _assignment_rows(user) -> list[tuple[str, str]]:
    """(role, node path) of the user's current assignments on live nodes, loaded once per user object."""
    rows = getattr(user, "_scope_assignment_rows", None)
    if rows is None:
        from grid.models import Assignment

        rows = list(
            Assignment.objects.current()
            .filter(user=user, node__archived_at__isnull=True)
            .values_list("role", "node__path")
        )
        user._scope_assignment_rows = rows
    return rows


def forget_scope(user) -> None:
    """Drop the per-object cache, after the user's assignments changed."""
    for attribute in ("_scope_assignment_rows", "_role_perm_cache"):
        if hasattr(user, attribute):
            delattr(user, attribute)


def user_roles(user) -> set[str]:
    if not user or not user.is_authenticated or not user.is_active:
        return set()
    return {role for role, _path in _assignment_rows(user)}


def default_permission(model: type[Model], action: str = "view") -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def scope_paths(user, permission: str) -> list[str] | None:
    """Paths of the subtrees in which `user` holds `permission`; None means everywhere."""
    if not user or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    roles = roles_granting(permission)
    paths = sorted({path for role, path in _assignment_rows(user) if role in roles})
    pruned: list[str] = []
    for path in paths:
        # Sorted order puts every descendant right after its ancestor.
        if not pruned or not path.startswith(pruned[-1]):
            pruned.append(path)
    return pruned


def _lookup(field: str) -> str:
    return f"{field}__path__startswith" if field else "path__startswith"


def _is_multi_valued(model: type[Model], field: str) -> bool:
    opts = model._meta
    for part in field.split("__") if field else []:
        relation = opts.get_field(part)
        if relation.one_to_many or relation.many_to_many:
            return True
        opts = relation.related_model._meta
    return False


def scope_queryset(
    queryset: QuerySet, user, *, permission: str | None = None, field: str | None = None
) -> QuerySet:
    """Narrow `queryset` to what `user` may see (or, with `permission`, do)."""
    model = queryset.model
    field = model.SCOPE_NODE_FIELD if field is None else field
    permission = permission or default_permission(model)
    paths = scope_paths(user, permission)
    if paths is None:
        return queryset
    if not paths:
        return queryset.none()
    condition = Q()
    for path in paths:
        condition |= Q(**{_lookup(field): path})
    if _is_multi_valued(model, field):
        return queryset.filter(pk__in=model._default_manager.filter(condition).values("pk"))
    return queryset.filter(condition)


def node_in_scope(user, node, permission: str) -> bool:
    paths = scope_paths(user, permission)
    if paths is None:
        return True
    return node is not None and any(node.path.startswith(path) for path in paths)


def path_checker(user, permission: str):
    """A function telling, without queries, whether a node path lies where `user` holds
    `permission`: for deciding per row of an already-loaded list."""
    paths = scope_paths(user, permission)
    if paths is None:
        return lambda path: True
    prefixes = tuple(paths)
    return lambda path: bool(path) and path.startswith(prefixes)


def object_in_scope(user, obj: Model, permission: str | None = None) -> bool:
    model = type(obj)
    permission = permission or default_permission(model)
    field = model.SCOPE_NODE_FIELD
    if _is_multi_valued(model, field):
        return scope_queryset(model._default_manager.filter(pk=obj.pk), user, permission=permission).exists()
    node = obj
    for part in field.split("__") if field else []:
        node = getattr(node, part)
    return node_in_scope(user, node, permission)

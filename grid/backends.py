from django.contrib.auth.backends import ModelBackend

from grid.permissions import ROLE_PERMISSIONS
from grid.scope import user_roles


class RoleBackend(ModelBackend):
    """Django's model backend plus the permissions that come with the user's current roles.

    Permissions answer "may this user do X at all"; where they may do it is the scope rule's job.
    """

    def get_role_permissions(self, user_obj) -> set[str]:
        cached = getattr(user_obj, "_role_perm_cache", None)
        if cached is None:
            cached = set()
            for role in user_roles(user_obj):
                cached |= ROLE_PERMISSIONS.get(role, set())
            user_obj._role_perm_cache = cached
        return cached

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return {*super().get_all_permissions(user_obj), *self.get_role_permissions(user_obj)}

    def has_module_perms(self, user_obj, app_label):
        return user_obj.is_active and any(
            perm[: perm.index(".")] == app_label for perm in self.get_all_permissions(user_obj)
        )

from django.contrib import admin
from django.utils.translation import gettext_lazy as _


class GovernanceAdminSite(admin.AdminSite):
    site_header = _("Grid community governance")
    site_title = _("Grid community governance")
    index_title = _("Registers")

    def has_permission(self, request):
        """Staff accounts, and field accounts that hold a current role, may open the admin;
        each model page then shows only what their roles and scope allow."""
        user = request.user
        if not user.is_active:
            return False
        if user.is_staff:
            return True
        from grid.scope import user_roles

        return bool(user_roles(user))

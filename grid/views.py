from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from grid import mobile
from grid.permissions import FIELD_WORKERS
from grid.scope import user_roles


@login_required
def home(request):
    """Send each person to the place they work in: field roles to their phone pages, staff to the admin."""
    roles = user_roles(request.user)
    if roles and roles <= FIELD_WORKERS | {"volunteer", "party_representative"}:
        return redirect("mobile-home")
    return redirect("admin:index")


@login_required
def mobile_home(request):
    entries = [(reverse(entry.url_name), entry.label) for entry in mobile.entries_for(request.user)]
    return render(request, "mobile/home.html", {"entries": entries})

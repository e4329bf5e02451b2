from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect


@login_required
def home(request):
    """Send each person to the place they work in."""
    return redirect("admin:index")

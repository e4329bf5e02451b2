"""Login throttling: the lockout page, and the API token endpoint with its own rate limit."""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from grid.ratelimit import client_ip, hit


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login form gets (django-axes calls this): 429 and a page in the UI's language."""
    return render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": cooloff_minutes()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


class TokenRateThrottle(BaseThrottle):
    """At most TOKEN_REQUESTS_PER_MINUTE token requests per client address, whatever the username:
    this stops guessing across many usernames, which the per-username lockout does not see."""

    def allow_request(self, request, view):
        return hit(f"token:{client_ip(request)}", limit=settings.TOKEN_REQUESTS_PER_MINUTE, window_seconds=60)

    def wait(self):
        return 60


class TokenView(ObtainAuthToken):
    """Username and password for an API token; throttled per address, locked out like the login form."""

    throttle_classes = [TokenRateThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # django-axes marks the request when the username is locked out from this address.
            if getattr(request, "axes_locked_out", False):
                message = _("Too many failed logins. Try again in %(minutes)d minutes.") % {
                    "minutes": cooloff_minutes()
                }
                return Response(
                    {"detail": message, "code": "locked_out"}, status=status.HTTP_429_TOO_MANY_REQUESTS
                )
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})


token_view = TokenView.as_view()

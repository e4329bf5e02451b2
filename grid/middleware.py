"""Requests no view can store: refused before any view runs."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM = "application/x-www-form-urlencoded"


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


class RefuseNulMiddleware:
    """A NUL character in the address, its parameters or a posted form is refused with a 400.

    PostgreSQL cannot hold NUL in text, so a code, a search or a form field carrying one (`/t/%00/`)
    would otherwise fail deep inside a view, as a 500. Forms with files and JSON bodies are
    checked by their forms and serializers (Django's and DRF's text fields refuse NUL)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = "\x00" in request.path or _has_nul(request.GET)
        if not bad and request.method == "POST" and request.content_type == FORM:
            bad = _has_nul(request.POST)
        if bad:
            return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def refuse(request):
        message = _("The request contains a NUL character, which cannot be stored.")
        if request.path.startswith("/open311/"):
            return JsonResponse([{"code": 400, "description": message}], status=400, safe=False)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

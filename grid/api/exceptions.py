from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.serializers import ValidationError, as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from grid.errors import ConflictError


def exception_handler(exc, context):
    """DRF's handler, plus: service validation errors are 400s, state conflicts are 409s."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=as_serializer_error(exc))
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError):
        return Response(
            {"detail": _("Other records point at this one; archive it instead."), "code": "protected"},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)

"""Photo uploads: check that a file really is an image of sane size, then re-encode it as JPEG,
which drops EXIF (including GPS position) and anything hidden after the image data."""

import io
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2048
# What a phone page shows in the list of a ticket's photos: a few dozen KB on a weak network,
# the full photo one tap away.
THUMBNAIL_SIDE = 480
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "MPO"}
MAX_PHOTOS = 4


def clean_photo(upload) -> ContentFile:
    """Return a re-encoded JPEG ready for storage, or raise ValidationError in the user's language."""
    if upload.size > MAX_BYTES:
        raise ValidationError(_("A photo may be at most 10 MB."), code="photo_too_large")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            if image.format not in ALLOWED_FORMATS:
                raise ValidationError(_("Upload a JPEG, PNG or WebP photo."), code="photo_type")
            if image.width * image.height > MAX_PIXELS:
                raise ValidationError(_("The photo has too many pixels."), code="photo_pixels")
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB")
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=85, optimize=True)
            small = thumbnail_bytes(image)
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(_("The file is not a photo we can read."), code="photo_invalid") from error
    name = uuid.uuid4().hex
    photo = ContentFile(buffer.getvalue(), name=f"{name}.jpg")
    photo.width, photo.height = image.size
    photo.thumbnail = ContentFile(small, name=f"{name}-small.jpg")
    return photo


def thumbnail_bytes(image: Image.Image) -> bytes:
    """A small JPEG of an RGB image, for lists of photos on phones."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=72, optimize=True)
    return buffer.getvalue()


def clean_photos(uploads) -> list[ContentFile]:
    uploads = [u for u in uploads if u]
    if len(uploads) > MAX_PHOTOS:
        raise ValidationError(_("At most %(n)d photos.") % {"n": MAX_PHOTOS}, code="photo_count")
    return [clean_photo(upload) for upload in uploads]

"""Reading the clinic settings file, and its logo, once: decoded to the last pixel when read."""

from __future__ import annotations

import io
from pathlib import Path

from pydantic import ValidationError

from hepplan.domain.clinic import MAX_LOGO_BYTES, MAX_LOGO_PIXELS, Clinic
from hepplan.errors import InputError
from hepplan.io.loading import read_document, read_regular
from hepplan.io.problems import validation_problems


def load_clinic(path: Path | None) -> Clinic:
    """The clinic settings from a YAML/JSON file, or the built-in defaults."""
    if path is None:
        return Clinic()
    data = read_document(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: clinic settings must be a mapping of keys to values")
    try:
        clinic = Clinic.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(str(path), exc, Clinic)) from None
    if clinic.logo is not None:
        logo = clinic.logo if clinic.logo.is_absolute() else path.parent / clinic.logo
        data = _read_logo(logo, f"{path}: logo: {str(clinic.logo)!r}")
        clinic = clinic.model_copy(update={"logo": logo})
        clinic._logo_data = data
    return clinic


def _read_logo(logo: Path, where: str) -> bytes:
    """The logo's bytes, once, from a regular file; decoded to the last pixel now, so a
    truncated or corrupt picture is the clinic file's error, not a failure while rendering."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = read_regular(logo, MAX_LOGO_BYTES, where)
    except InputError as exc:
        message = exc.problems[0].removeprefix(f"{where}: ")
        if message == "no such file" or message.startswith("is a folder"):
            message = "is not a file"
        raise InputError(f"{where} {message}") from None
    unreadable = f"{where} is not an image that can be read (use PNG or JPEG)"
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise InputError(unreadable)
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise InputError(
                    f"{where} is {image.width} × {image.height} pixels; "
                    f"at most {MAX_LOGO_PIXELS:,} pixels (a logo needs far fewer)"
                )
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise InputError(unreadable) from None
    return data

"""Clinic settings (``--clinic FILE``): who the clinic is, its numbers, and layout choices.

The built-in defaults invent no clinic details: without a clinic file, lines that need one are
left out of the documents.
"""

from __future__ import annotations

import io
import re
import unicodedata
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from .errors import InputError
from .loading import read_document, read_regular, validation_problems

PHONE = re.compile(r"^[0-9+() .\-]{2,30}$")
#: A logo is a small picture: larger files and images are refused when the clinic file is read.
MAX_LOGO_BYTES = 5 * 1024 * 1024
MAX_LOGO_PIXELS = 25_000_000


def breaks_a_line(ch: str) -> bool:
    """Control characters and Unicode's line and paragraph separators (U+2028, U+2029): any of
    them would split a printed line or an e-mail header."""
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _line(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if any(breaks_a_line(ch) for ch in value):
            raise ValueError("must be one line of text (no line breaks or control characters)")
    return value


Line = Annotated[str, BeforeValidator(_line), Field(min_length=1, max_length=200)]


def _phone(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            f'write the number in quotes, like "{value}", so that it is kept exactly as written'
        )
    if (
        not isinstance(value, str)
        or not PHONE.fullmatch(value.strip())
        or not any(ch.isdigit() for ch in value)
    ):
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "the value"
        raise ValueError(f"{shown} is not a phone number (digits, spaces, + ( ) - .)")
    return value.strip()


Phone = Annotated[str, BeforeValidator(_phone)]


class PainBands(BaseModel):
    """The pain traffic light: green up to ``green_max``, amber up to ``amber_max``, red above."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    green_max: Annotated[int, Field(ge=0, le=9)] = 2
    amber_max: Annotated[int, Field(ge=1, le=9)] = 5

    @model_validator(mode="after")
    def _ordered(self) -> PainBands:
        if self.amber_max <= self.green_max:
            raise ValueError("amber_max must be above green_max")
        return self


class Smtp(BaseModel):
    """How ``hepplan email`` reaches the clinic's mail server. Options and ``HEPPLAN_SMTP_*``
    environment variables win over these; the password is never kept in a file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: Line | None = None
    port: Annotated[int, Field(ge=1, le=65535)] | None = None
    security: Literal["starttls", "ssl", "none"] | None = None
    user: Line | None = None
    sender: Line | None = Field(default=None, alias="from")

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "a password must not be kept in the clinic file; "
                "set the HEPPLAN_SMTP_PASSWORD environment variable instead"
            )
        if isinstance(data, dict) and isinstance(data.get("security"), str):
            data = {**data, "security": data["security"].strip().lower()}
        return data


class Clinic(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Line | None = None
    phone: Phone | None = None
    email: Line | None = None
    address: Line | None = None
    website: Line | None = None
    emergency_number: Phone = "911"
    pain_bands: PainBands = PainBands()
    page_size: Literal["letter", "a4"] = "letter"
    logo: Path | None = None
    smtp: Smtp = Smtp()
    #: The logo file's bytes, read once (bounded) and fully decoded when the clinic file is read.
    _logo_data: bytes | None = PrivateAttr(None)

    @property
    def logo_data(self) -> bytes | None:
        return self._logo_data

    @model_validator(mode="before")
    @classmethod
    def _lower_page_size(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("page_size"), str):
            data = {**data, "page_size": data["page_size"].strip().lower()}
        return data


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

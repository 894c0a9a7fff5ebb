"""Clinic settings (``--clinic FILE``): who the clinic is, its numbers, and layout choices.

The built-in defaults invent no clinic details: without a clinic file, lines that need one are
left out of the documents.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .errors import InputError
from .loading import read_document, validation_problems

PHONE = re.compile(r"^[0-9+() .\-]{2,30}$")


def _line(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if any(ord(ch) < 32 for ch in value):
            raise ValueError("must be one line of text")
    return value


Line = Annotated[str, BeforeValidator(_line), Field(min_length=1, max_length=200)]


def _phone(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not PHONE.fullmatch(value.strip()):
        raise ValueError(f"{value!r} is not a phone number (digits, spaces, + ( ) - .)")
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
        if not logo.is_file():
            raise InputError(f"{path}: logo: {str(clinic.logo)!r} is not a file")
        from reportlab.lib.utils import ImageReader

        try:
            ImageReader(str(logo)).getSize()
        except Exception:  # reportlab raises many kinds for unreadable images
            raise InputError(
                f"{path}: logo: {str(clinic.logo)!r} is not an image that can be read "
                "(use PNG or JPEG)"
            ) from None
        clinic = clinic.model_copy(update={"logo": logo})
    return clinic

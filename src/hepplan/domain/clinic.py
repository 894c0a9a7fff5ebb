"""Clinic settings (``--clinic FILE``): who the clinic is, its numbers, and layout choices.

The built-in defaults invent no clinic details: without a clinic file, lines that need one are
left out of the documents.
"""

from __future__ import annotations

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
    model_validator,
)

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

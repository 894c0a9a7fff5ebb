"""Validation errors as people read them: one line per problem, with the file, the key path,
what was given and what is allowed; patient details never repeated (redacted by location).

No YAML here: the models import this, and importing a model must not pull in a file reader.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

# --- validation errors, one line per problem -------------------------------------------------


def key_path(loc: tuple[Any, ...]) -> str:
    """``('medical_clearance', 0, 'flag')`` → ``medical_clearance[0].flag``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _shown(value: Any) -> str:
    text = repr(value)
    if isinstance(value, bool):
        text = "true" if value else "false"
    return text if len(text) <= 60 else text[:57] + "..."


def _unwrap(annotation: Any) -> Any:
    """The model class behind ``X | None``, ``list[X]``, ``Annotated[X, ...]``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0]
        elif origin in (list, tuple, set, frozenset):
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field is None:
            return None
        current = _unwrap(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return None


#: Where values identify a patient or hold free text: an error names the key, never repeats
#: the value, whatever its type (error output ends up in terminals, logs and tickets). Anything
#: under ``patient`` but its id, and any note.
PRIVATE_UNDER = "patient"
PUBLIC = {"patient.id"}
PRIVATE_LAST = {"note", "notes"}
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_]{1,40}$")


def _private(loc: tuple[Any, ...]) -> bool:
    named = [part for part in loc if isinstance(part, str)]
    if ".".join(named) in PUBLIC:
        return False
    return bool(named) and (named[0] == PRIVATE_UNDER or named[-1] in PRIVATE_LAST)


def _private_line(source: str, loc: tuple[Any, ...], error: Any) -> str:
    """A problem in a private place: the key path and what is allowed, never the value."""
    kind, given = error["type"], error.get("input")
    if kind == "extra_forbidden" and not _PLAIN_KEY.fullmatch(str(loc[-1])):
        return f"{source}: {key_path(loc[:-1])}: holds a key that is not known"
    path = key_path(loc)
    if kind in ("missing", "extra_forbidden"):
        return f"{source}: {path}: " + (
            "is required but missing" if kind == "missing" else "is not a known key"
        )
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{source}: {path}: should be a mapping of keys to values"
    if kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        return f"{source}: {path}: should be a list, like [a, b]"
    if kind == "string_type":
        return f"{source}: {path}: should be text"
    message = str(error["msg"]).removeprefix("Value error, ")
    if given is not None and not isinstance(given, bool):
        message = message.replace(repr(given), "the value")
        if isinstance(given, str) and given:
            message = message.replace(given, "…")
    if any(text in message for text in _texts(given)):
        message = "is not valid here"  # the value still shows: say less rather than leak it
    return f"{source}: {path}: {message[0].lower()}{message[1:]}"


def _texts(value: Any) -> list[str]:
    """Every piece of text of three characters or more inside a value."""
    if isinstance(value, str):
        return [value] if len(value) >= 3 else []
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return []


def validation_problems(source: str, exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """One readable line per pydantic error: file, key path, what was given, what is allowed."""
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        path = key_path(loc)
        kind = error["type"]
        given = error.get("input")
        if _private(loc):
            lines.append(_private_line(source, loc, error))
            continue
        if kind == "missing":
            message = "is required but missing"
        elif kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            message = "is not a known key"
            if allowed:
                message += f"; allowed here: {', '.join(allowed)}"
        elif kind == "enum":
            expected = error.get("ctx", {}).get("expected", "")
            message = f"{_shown(given)} is not allowed; allowed: {expected.replace(chr(39), '')}"
        elif kind in ("value_error", "assertion_error"):
            message = str(error["msg"]).removeprefix("Value error, ")
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = f"should be a mapping of keys to values, not {_shown(given)}"
        elif kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
            message = f"should be a list, like [a, b]; given {_shown(given)}"
        elif kind == "string_type":
            message = f"should be text; given {_shown(given)}"
        else:
            message = f"{error['msg'][0].lower()}{error['msg'][1:]}; given {_shown(given)}"
        lines.append(f"{source}: {path}: {message}")
    return lines

"""Reading YAML and JSON documents safely, and turning validation errors into one line per problem.

The YAML reader is stricter than ``yaml.safe_load`` on purpose:

- a key given twice is an error (a second ``saddle_anesthesia:`` must never silently win);
- aliases and anchors are refused (profiles never need them, and they allow "billion laughs");
- only ``true``/``false`` are booleans, so ``no`` stays the word "no" (and ``NO``, Norway, too);
- dates stay text and are parsed by the models, so a bad date is a clear error, not a crash;
- numbers are decimal, as YAML 1.2 reads them: ``060``, ``0x3C``, ``0o17``, ``1:05``, ``1_000``
  and ``+1`` are errors that say so, never silently turned into 48, 60, 15, 65 or 1000.

Files are read by ``read_regular``: regular files only (a pipe or a device is refused at once,
never waited on), and never more than a fixed number of bytes, whatever the file claims.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from hepplan.errors import InputError
from hepplan.io.problems import key_path

#: Profiles, clinic files and exercises are small; anything larger is refused before parsing.
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 50
#: Nesting at which libyaml (bundled with PyYAML 6.0.2 and later) gives up on its own, less a
#: margin so that a later release with a slightly lower limit is still covered.
LIBYAML_NESTING_LIMIT = 900


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when available


class StrictLoader(_Base):  # type: ignore[misc,valid-type]
    """A safe loader without YAML 1.1 surprises or duplicate keys (aliases are refused by
    ``_refuse_aliases`` before loading)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(
                        None, None, "a key must be a plain word", key_node.start_mark
                    ) from None
                if key in seen:
                    first = seen[key].start_mark.line + 1
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} is given twice (first on line {first})",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


#: A plain scalar that YAML 1.1 would read as a number but YAML 1.2's decimal reading would not
#: (or would read differently): refused with a message, never guessed at.
_NOT_DECIMAL = "tag:hepplan,2026:not-decimal"
_NUMBER_START = list("-+0123456789.")

# Rebuild the implicit resolvers: null stays; booleans only true/false; no timestamps (dates are
# parsed by the models with clear messages); numbers as YAML 1.2 decimal, checked in order.
StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:timestamp",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789")
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^-?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$"),
    list("-.0123456789"),
)
StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$"),
    list("-+."),
)
# What YAML 1.1 reads as a number and plain decimals do not: signs, leading zeros, underscores,
# base 2, 8, 16 and 60.
StrictLoader.add_implicit_resolver(
    _NOT_DECIMAL,
    re.compile(
        r"""^(?:[-+]?0[bB][0-1_]+
        |[-+]?0[oO]?[0-9_]+
        |[-+]?0[xX][0-9a-fA-F_]+
        |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?
        |[-+]?(?=[0-9_.]*[0-9])[0-9_]*\.?[0-9_]*(?:[eE][-+]?[0-9]+)?
        )$""",
        re.X,
    ),
    _NUMBER_START,
)


def _why_not_decimal(text: str) -> str:
    """What a number-like word does that YAML 1.2's decimal numbers do not."""
    body = text.lstrip("+-")
    if text.startswith("+"):
        return "has a + sign"
    if body[:2].lower() in ("0x", "0o", "0b"):
        return "is hexadecimal, octal or binary"
    if ":" in body:
        return "is in base 60 (like a time)"
    if "_" in body:
        return "has an underscore"
    if re.match(r"^0[0-9]", body):
        return "has a leading zero"
    return "is not a plain decimal number"


def _construct_not_decimal(loader: yaml.BaseLoader, node: yaml.Node) -> Any:
    text = loader.construct_scalar(node)
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"{text!r} {_why_not_decimal(text)}; numbers are read as plain decimals (YAML 1.2): "
        "write it like 60 or 2.5, or put it in quotes if it is text",
        node.start_mark,
    )


StrictLoader.add_constructor(_NOT_DECIMAL, _construct_not_decimal)


def _event_loader(text: str) -> type:
    """The parser whose events ``_check_events`` reads: libyaml's unless it could stop first.

    libyaml scans a flow collection ahead and stops at its own nesting limit (1000 levels in
    PyYAML 6.0.2 and later) before any event reaches the check below, with a message that is
    not hepplan's. Fewer brackets than that limit cannot reach it, so nearly every file takes
    the fast parser; a file with more takes the pure-Python one, which has no such limit and
    yields events lazily. Either way the message is hepplan's, with its line and column."""
    if text.count("[") + text.count("{") >= LIBYAML_NESTING_LIMIT:
        return yaml.SafeLoader
    return _Base


def _check_events(text: str) -> None:
    """Before anything is built: refuse what a profile never needs and an attacker would use.

    Anchors and aliases allow "billion laughs" documents; explicit tags (``!!python/object``,
    ``!custom``) ask for objects to be built; deep nesting exhausts the stack. The event
    stream is read lazily, so a hostile file stops at its first offending event."""
    depth = 0
    for event in yaml.parse(text, Loader=_event_loader(text)):
        if isinstance(event, yaml.AliasEvent):
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                None, None, "anchors (&name) are not allowed", event.start_mark
            )
        if getattr(event, "tag", None):  # only an explicit tag is reported here
            raise yaml.MarkedYAMLError(
                None,
                None,
                f"YAML tags ({event.tag}) are not allowed; write plain values",
                event.start_mark,
            )
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    None,
                    None,
                    f"nested too deeply (more than {MAX_DEPTH} levels)",
                    event.start_mark,
                )
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _depth(value: Any, limit: int) -> int:
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_document(text: str, source: str, *, json_only: bool = False) -> Any:
    """Parse YAML (a superset of JSON) or JSON text into plain Python values."""
    try:
        if json_only:
            data = json.loads(text, object_pairs_hook=_unique_json_object)
        else:
            _check_events(text)
            data = yaml.load(text, Loader=StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        raise InputError(f"{source}: {where}: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{source}: line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    except ValueError as exc:  # duplicate JSON keys, or a number of thousands of digits
        if "integer string conversion" in str(exc):
            raise InputError(
                f"{source}: a number is thousands of digits long; no value here needs that"
            ) from None
        raise InputError(f"{source}: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise InputError(f"{source}: nested too deeply (more than {MAX_DEPTH} levels)")
    broken = _lone_surrogate(data)
    if broken is not None:
        raise InputError(
            f"{source}: {key_path(broken)}: holds a \\u escape of half a character (a lone "
            "surrogate, \\ud800-\\udfff), which is not text; write the character itself"
        )
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any) -> tuple[Any, ...] | None:
    """Where a JSON ``\\ud800``-style escape left half a character (it cannot be printed,
    written or sent), as a key path; None when every text is whole."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str) and _SURROGATE.search(item):
            return loc
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    return loc
                stack.append((inner, (*loc, key)))
        elif isinstance(item, list):
            stack.extend((inner, (*loc, index)) for index, inner in enumerate(item))
    return None


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} is given twice")
        result[key] = value
    return result


_KINDS_OF_FILE = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "is a named pipe, not a file; hepplan reads only regular files"),
    (stat.S_ISCHR, "is a device, not a file; hepplan reads only regular files"),
    (stat.S_ISBLK, "is a device, not a file; hepplan reads only regular files"),
    (stat.S_ISSOCK, "is a socket, not a file; hepplan reads only regular files"),
)


def read_regular(path: Path, limit: int = MAX_DOCUMENT_BYTES, source: str | None = None) -> bytes:
    """A regular file's bytes, at most ``limit`` of them; anything else is one InputError.

    The file is opened without blocking (a named pipe with no writer would wait forever), then
    read by ``read_open_file``."""
    source = source or str(path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
    try:
        return read_open_file(fd, source, limit)
    finally:
        os.close(fd)


def not_regular(mode: int, source: str) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    for test, what in _KINDS_OF_FILE:
        if test(mode):
            return f"{source}: {what}"
    if not stat.S_ISREG(mode):
        return f"{source}: is not a regular file; hepplan reads only regular files"
    return None


def read_open_file(fd: int, source: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """An open file's bytes: checked to be a regular file on the descriptor itself (no swap
    between check and read), and read up to ``limit + 1`` bytes, whatever its size claims
    (``/proc`` files say 0)."""
    try:
        problem = not_regular(os.fstat(fd).st_mode, source)
        if problem:
            raise InputError(problem)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError(f"{source}: cannot be read ({exc.strerror})") from None
    if total > limit:
        raise InputError(
            f"{source}: the file is larger than {limit:,} bytes; at most {limit:,} are read"
        )
    return b"".join(chunks)


def read_document(path: Path) -> Any:
    """Read a YAML or JSON file (chosen by its suffix) into plain Python values."""
    source = str(path)
    with contextlib.suppress(OSError):
        size = path.stat().st_size  # a quick, friendly figure; the read is bounded anyway
        if path.is_file() and size > MAX_DOCUMENT_BYTES:
            raise InputError(
                f"{source}: the file is {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,} are read"
            )
    raw = read_regular(path, MAX_DOCUMENT_BYTES, source)
    return decode_document(raw, source, json_only=path.suffix.lower() == ".json")


def decode_document(raw: bytes, source: str, *, json_only: bool = False) -> Any:
    """A file's bytes (already read, at most ``MAX_DOCUMENT_BYTES``) as plain Python values."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise InputError(
            f"{source}: the file is {len(raw):,} bytes; at most {MAX_DOCUMENT_BYTES:,} are read"
        )
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(f"{source}: saved as UTF-16; save it as UTF-8")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not UTF-8 text (byte {exc.start + 1} cannot be read); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise InputError(f"{source}: holds binary data, not text")
    return parse_document(text, source, json_only=json_only)

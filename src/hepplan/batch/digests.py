"""The digests that decide what a batch rebuilds: the exercise files as they are on disk, the
run's context (everything a document depends on besides the profile and the library), and a
program's content. Pure values in, hex digests out; the library's files are only hashed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from hepplan import __version__
from hepplan.batch.manifest import MANIFEST_FORMAT
from hepplan.domain.clinic import Clinic
from hepplan.errors import InputError
from hepplan.io.loading import read_regular
from hepplan.io.resources import PACKAGE_DIR, templates_dir


def library_fingerprint(directory: Path) -> str:
    """A digest of the exercise files as they are on disk: when it matches the last run's, the
    library is the one that run validated."""
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    except OSError:
        return "unreadable"
    for path in files:
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(read_regular(path)).digest())
        except (OSError, InputError):
            digest.update(b"unreadable")
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def context_digest(clinic: Clinic, large_print: bool) -> str:
    """Everything besides the profile and the library that a document's bytes depend on."""
    import reportlab

    parts: dict[str, Any] = {
        "hepplan": __version__,
        "reportlab": reportlab.Version,
        "manifest": MANIFEST_FORMAT,
        "large_print": large_print,
        # The smtp section says how to send, not what is written: changing it rebuilds nothing.
        "clinic": clinic.model_dump(mode="json", exclude={"smtp", "logo"}),
        "logo": hashlib.sha256(clinic.logo_data).hexdigest() if clinic.logo_data else None,
        "templates": {
            p.relative_to(templates_dir()).as_posix(): _file_digest(p)
            for p in sorted(templates_dir().rglob("*.j2"))
        },
        "fonts": {p.name: _file_digest(p) for p in sorted((PACKAGE_DIR / "fonts").glob("*.ttf"))},
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def record_context_digest(clinic: Clinic) -> str:
    """Everything besides the profile and the decision that a clinician record's bytes depend
    on: the clinic's name and paper, the fonts, the hepplan and reportlab versions. Not large
    print, the templates, the logo or the clinic's numbers: the record uses none of them."""
    import reportlab

    parts: dict[str, Any] = {
        "hepplan": __version__,
        "reportlab": reportlab.Version,
        "manifest": MANIFEST_FORMAT,
        "clinic": clinic.model_dump(mode="json", include={"name", "page_size"}),
        "fonts": {p.name: _file_digest(p) for p in sorted((PACKAGE_DIR / "fonts").glob("*.ttf"))},
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def record_digest(context: str, profile, decision) -> str:
    """What a clinician record is made of: the validated profile (its follow-up included), the
    whole decision with the library's version (the record prints it, so any edit to the
    library changes every record), the content digest, and the record's ``context``."""
    parts = {
        "context": context,
        "profile": profile.model_dump(mode="json"),
        "decision": decision.to_dict(),
        "content": decision.content_version,
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def program_digest(context: str, profile, decision) -> str:
    """What a document is made of: the validated profile, the decision (exercises, doses,
    trace), the content of the exercises it uses, and the run's ``context``."""
    decided = decision.to_dict()
    decided.pop("library_version")  # the whole library: what the program uses is below
    parts = {
        "context": context,
        "profile": profile.model_dump(mode="json"),
        "decision": decided,
        "content": decision.content_version,
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()

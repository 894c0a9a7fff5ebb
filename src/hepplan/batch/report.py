"""What a batch tells its user: one item per profile, the counts, the exit code, the summary
line and the JSON report. Items are spooled to a temporary file as they come, so memory stays
flat however many profiles there are.
"""

from __future__ import annotations

import collections
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from hepplan.errors import Exit, Status

COUNTS = ("built", "unchanged", Status.REFUSED, Status.INCOMPLETE, "failed")
RECORD_COUNTS = ("built", "unchanged")  # the clinician records, counted apart


@dataclass
class Item:
    profile: str
    patient: str | None
    status: str  # prescribed | refused | incomplete | invalid | failed
    action: str  # built | unchanged | removed | none | blocked (by an unusable library)
    disposition: str | None = None  # none | routine | urgent | emergency, once screened
    pdf: str | None = None
    errors: list[str] = field(default_factory=list)
    emailed: bool | None = None  # None when --email was not asked for
    missing: list[str] = field(default_factory=list)  # red-flag questions not yet asked
    record: str | None = None  # the clinician record: records/<id>.pdf
    record_action: str = "none"  # built | unchanged | removed | none


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Report:
    """Counts, plus every item spooled to a temporary file so memory stays flat."""

    counts: collections.Counter = field(default_factory=collections.Counter)
    records: collections.Counter = field(default_factory=collections.Counter)  # built, unchanged
    invalid: int = 0
    internal: int = 0
    emailed: int = 0
    not_emailed: int = 0
    new_redirects: int = 0  # refusals whose redirect this run wrote, new or changed
    library_code: int = 0  # an unusable library's exit code (see run.Inputs.library_problems)
    # The spool lives as long as the report and is closed by it, so no `with` block fits.
    _spool: IO[str] = field(
        default_factory=lambda: tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
    )

    def add(self, item: Item) -> None:
        if item.record_action in RECORD_COUNTS:
            self.records[item.record_action] += 1
        if item.status == Status.PRESCRIBED:
            self.counts["built" if item.action == "built" else "unchanged"] += 1
        elif item.status in (Status.REFUSED, Status.INCOMPLETE):
            self.counts[item.status] += 1
            self.new_redirects += item.status == Status.REFUSED and item.action == "built"
        else:
            self.counts["failed"] += 1
            if item.status == "invalid":
                self.invalid += 1
            elif item.action != "blocked":  # a blocked item counts as the library's problem
                self.internal += 1
        self._spool.write(_dumps(asdict(item)) + "\n")

    def items(self) -> Iterator[dict]:
        self._spool.seek(0)
        for line in self._spool:
            yield json.loads(line)

    @property
    def exit_code(self) -> Exit:
        """The most pressing (CONTRACT.md §3): 1 over 2 over 3 (a redirect written by this
        run: a patient to contact) over 4 (a screening incomplete) over 0. An unusable
        library counts as its own code (1 broken, 2 not a folder)."""
        if self.internal or self.library_code == Exit.INTERNAL:
            return Exit.INTERNAL
        if self.invalid or self.library_code == Exit.USAGE:
            return Exit.USAGE
        if self.new_redirects:
            return Exit.REFUSED
        return Exit.INCOMPLETE if self.counts[Status.INCOMPLETE] else Exit.OK

    def summary(self) -> str:
        line = ", ".join(f"{self.counts[key]} {key}" for key in COUNTS)
        line += "; records: " + ", ".join(f"{self.records[key]} {key}" for key in RECORD_COUNTS)
        if self.emailed or self.not_emailed:
            line += f"; {self.emailed} e-mailed"
            if self.not_emailed:
                line += f", {self.not_emailed} not e-mailed"
        return line

    def write_json(self, out: IO[str], *, with_email: bool) -> None:
        """One JSON object: the counts, then ``items``, one item a line, streamed from the
        spool. Every key and value is written by the json module; only the punctuation
        between them is written here, so the items never need to be in memory at once."""
        head: dict[str, Any] = {key: self.counts[key] for key in COUNTS}
        head["records"] = {key: self.records[key] for key in RECORD_COUNTS}
        if with_email:
            head["emailed"] = self.emailed
        out.write("{")
        for key, value in head.items():
            out.write(f"{_dumps(key)}: {_dumps(value)}, ")
        out.write(f"{_dumps('items')}: [")
        for number, item in enumerate(self.items()):
            if not with_email:
                item.pop("emailed")
            out.write(("," if number else "") + "\n  " + _dumps(item))
        out.write("\n]}\n")

    def close(self) -> None:
        self._spool.close()

"""The steps the commands run, as plain calls: load → screen → plan → render → write.

Heavy modules (reportlab, jinja2) are imported only inside the functions that render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.library import Library
from hepplan.domain.planner import plan_program
from hepplan.domain.profile import Profile
from hepplan.domain.screening import screen
from hepplan.errors import InputError, LibraryError
from hepplan.io.clinic import load_clinic
from hepplan.io.library import load_library
from hepplan.io.profiles import load_profile

#: CONTRACT.md §3
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_REFUSED, EXIT_INCOMPLETE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Outcome:
    profile: Profile
    decision: Decision
    #: An unusable library met while refusing: reported, but the redirect is still written.
    library_problems: tuple[str, ...] = ()
    #: Its exit code: 2 for a --library that is not a folder (the user's input), 1 when broken.
    library_code: int = EXIT_INTERNAL

    @property
    def exit_code(self) -> int:
        if self.decision.refused:
            return EXIT_REFUSED  # a known emergency is never held back by a broken library
        if self.library_problems:
            return self.library_code
        return {"prescribed": EXIT_OK, "incomplete": EXIT_INCOMPLETE}[self.decision.status]


def decide(profile_path: Path, library: Library | Path | None = None) -> Outcome:
    """Load a profile, screen it, and plan when screening allows it.

    ``library`` is a loaded library, or the folder to load one from (None: the shipped one).
    A folder is read only after screening, which needs no library (CLINICAL.md §1): when the
    screening refuses or is incomplete, a missing or broken library is reported in
    ``library_problems`` instead of stopping the redirect.
    """
    profile = load_profile(profile_path)
    screening = screen(profile)
    if not isinstance(library, Library):
        try:
            library = load_library(library)
        except (LibraryError, InputError) as exc:
            if screening.prescribed:
                raise
            decision = plan_program(profile, None, screening)  # a refusal needs no library
            return Outcome(profile, decision, tuple(exc.problems), exc.exit_code)
    decision = plan_program(profile, library, screening, source=str(profile_path))
    return Outcome(profile, decision)


def render_document(outcome: Outcome, clinic: Clinic, *, large_print: bool = False) -> bytes | None:
    """The handout (prescribed) or the redirect (refused); nothing for an incomplete screening."""
    from hepplan.render.pdf import render_handout, render_redirect

    if outcome.decision.prescribed:
        return render_handout(outcome.profile, outcome.decision, clinic, large_print=large_print)
    if outcome.decision.refused:
        return render_redirect(outcome.profile, outcome.decision, clinic, large_print=large_print)
    return None


__all__ = [
    "EXIT_INCOMPLETE",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "Outcome",
    "decide",
    "load_clinic",
    "load_library",
    "render_document",
]

"""The steps the commands run, as plain calls: load → screen → plan → render → write.

Heavy modules (reportlab, jinja2) are imported only inside the functions that render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .clinic import Clinic, load_clinic
from .decision import Decision
from .library import Library, load_library
from .planner import plan_program
from .profile import Profile, load_profile
from .screening import screen

#: CONTRACT.md §3
EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_REFUSED, EXIT_INCOMPLETE = 0, 1, 2, 3, 4


@dataclass(frozen=True)
class Outcome:
    profile: Profile
    decision: Decision

    @property
    def exit_code(self) -> int:
        return {
            "prescribed": EXIT_OK,
            "refused": EXIT_REFUSED,
            "incomplete": EXIT_INCOMPLETE,
        }[self.decision.status]


def decide(profile_path: Path, library: Library) -> Outcome:
    """Load a profile, screen it, and plan when screening allows it."""
    profile = load_profile(profile_path)
    screening = screen(profile)
    decision = plan_program(profile, library, screening, source=str(profile_path))
    return Outcome(profile, decision)


def render_document(outcome: Outcome, clinic: Clinic, *, large_print: bool = False) -> bytes | None:
    """The handout (prescribed) or the redirect (refused); nothing for an incomplete screening."""
    from .render import render_handout, render_redirect

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

"""Patient-facing words: the templates' sandboxed jinja2 environment, the side wording, dose
in words.

Exercise text is not a template: its ``{{ side }}`` and ``{{ other_side }}`` are substituted
by ``fill`` and nothing else is evaluated (a shared library must never run code). The shipped
templates render in jinja2's immutable sandbox, with a bound on what one block may produce.

Imported only by the commands that render, never by ``hepplan --help``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
import jinja2.sandbox

from hepplan.domain.decision import Prescription
from hepplan.domain.library import fill_placeholders
from hepplan.io.resources import templates_dir

OTHER = {"left": "right", "right": "left"}
#: The signs that mean "get help right away", in the handout's safety box and the e-mail.
SAFETY_SIGNS = (
    "You can't pee, or you can't tell when you need to pee.",
    "You leak pee or poo and can't stop it.",
    "You feel numb between your legs, where you sit on a bike seat.",
    "Both legs have pain, numbness or weakness.",
    "Your leg or foot gets weaker, or your foot slaps or catches when you walk.",
    "You have a fever or feel very unwell along with the pain.",
)
#: The "protect your hip" box on a GTPS handout (Grimaldi & Fearon 2015; Mellor et al. 2018).
PROTECT_HIP = (
    "Do not cross your legs when you sit.",
    "Do not stand with your weight on one hip. Stand evenly on both feet.",
    "Sleep with a pillow between your knees.",
)
NUMBER_WORDS = {1: "once", 2: "twice", 3: "3 times", 4: "4 times", 5: "5 times", 6: "6 times"}
#: The most one template block may produce; the largest shipped block is under 1,000.
MAX_BLOCK_CHARS = 20_000


@functools.lru_cache(maxsize=4)
def environment(folder: Path | None = None) -> jinja2.Environment:
    """The one environment: packaged templates in the immutable sandbox, StrictUndefined, no
    autoescape (PDF text is escaped where it enters a paragraph)."""
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder or templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.lru_cache(maxsize=1)
def mail_environment() -> jinja2.Environment:
    """For the e-mail bodies: ``*.html.j2`` templates are autoescaped, so nothing a clinician or
    patient typed can become markup."""
    return jinja2.sandbox.ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=True
        ),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def side_words(side: str | None) -> dict[str, str]:
    """``{{ side }}`` and ``{{ other_side }}`` for a prescription's side; "both" starts left."""
    first = side if side in OTHER else "left"
    return {"side": first, "other_side": OTHER[first]}


def fill(source: str, side: str | None) -> str:
    """One piece of exercise text with the patient's side filled in; nothing is evaluated."""
    return fill_placeholders(source, side_words(side)).strip()


def block(template: str, name: str, **context) -> str:
    """Render one named block of a template file, at most ``MAX_BLOCK_CHARS`` of it."""
    tmpl = environment().get_template(template)
    parts, size = [], 0
    for part in tmpl.blocks[name](tmpl.new_context(context)):
        size += len(part)
        if size > MAX_BLOCK_CHARS:
            raise jinja2.TemplateRuntimeError(
                f"{template}: block {name} is longer than {MAX_BLOCK_CHARS:,} characters"
            )
        parts.append(part)
    return "".join(parts).strip()


def side_line(item: Prescription, painful: str) -> str | None:
    """Which leg, in words, or None when both legs work together."""
    if item.side is None:
        return None
    if item.side in OTHER:
        return f"Your {item.side} leg."
    if item.exercise.laterality.value == "painful_side":
        return "Both legs: do your left leg, then your right leg."
    first = painful if painful in OTHER else "left"
    return f"Both legs: start with your {first} leg, then do your {OTHER[first]} leg."


def dose_words(item: Prescription) -> str:
    """``2 sets of 10, hold 3 seconds, once a day, every day``."""
    parts = []
    if item.minutes:
        parts.append(f"{item.minutes} minutes")
    elif item.reps:
        if item.category == "stretch" and item.hold_s:
            parts.append(f"hold {item.hold_s} seconds, {item.reps} times")
        else:
            sets = f"{item.sets} set" + ("s" if (item.sets or 1) > 1 else "")
            parts.append(f"{sets} of {item.reps}")
            if item.hold_s:
                parts.append(f"hold {item.hold_s} second" + ("s" if item.hold_s > 1 else ""))
    parts.append(f"{NUMBER_WORDS.get(item.times_per_day, f'{item.times_per_day} times')} a day")
    parts.append("every day" if item.days_per_week == 7 else f"{item.days_per_week} days a week")
    return ", ".join(parts)


def what_to_do(disposition, emergency_number: str | None = None) -> str:
    """What a refused patient must do, in the words every message uses: "go to the emergency
    department now, or call 911" or "see a doctor within 24 hours"."""
    if disposition.word == "emergency":
        call = f", or call {emergency_number}" if emergency_number else ""
        return f"go to the emergency department now{call}"
    return "see a doctor within 24 hours"

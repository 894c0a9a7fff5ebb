"""``hepplan library check``: is a library fit to print for patients?

Beyond what loading already refuses (schema, vocabularies, unique ids, links, loops), it renders
every text for every side, draws every picture for either side (with the equipment the exercise
needs, and a start and end that differ), and measures reading level with textstat's
Flesch-Kincaid grade: at most 9 for any exercise, and a library median of at most 7.
"""

from __future__ import annotations

import io
import statistics
import warnings
from dataclasses import dataclass
from pathlib import Path

from .library import Exercise, read_library

MAX_GRADE = 9.0
MAX_MEDIAN_GRADE = 7.0
SIDES = ("left", "right", "both")


@dataclass(frozen=True)
class CheckResult:
    exercises: int
    grades: dict[str, float]
    problems: list[str]

    @property
    def median_grade(self) -> float:
        return statistics.median(self.grades.values()) if self.grades else 0.0

    @property
    def clean(self) -> bool:
        return not self.problems


def check_library(directory: Path) -> CheckResult:
    exercises, paths, problems = read_library(directory)
    grades: dict[str, float] = {}
    for ex_id in sorted(exercises):
        exercise, path = exercises[ex_id], paths[ex_id]
        texts, template_problems = _rendered_texts(exercise, path)
        problems += template_problems
        problems += _picture_problems(exercise, path)
        if texts:
            grade = reading_grade(texts)
            grades[ex_id] = grade
            if grade > MAX_GRADE:
                problems.append(
                    f"{path}: reading level: grade {grade:.1f}; at most {MAX_GRADE:g} "
                    "(shorter sentences, shorter words)"
                )
    result = CheckResult(len(exercises), grades, problems)
    if grades and result.median_grade > MAX_MEDIAN_GRADE:
        problems.append(
            f"{directory}: reading level: the library's median is grade "
            f"{result.median_grade:.1f}; at most {MAX_MEDIAN_GRADE:g}"
        )
    return result


def _rendered_texts(exercise: Exercise, path: Path) -> tuple[list[str], list[str]]:
    """The patient-facing text, rendered for every side; template errors as problems."""
    import jinja2

    from . import text

    fields = [(f"steps[{i}]", step) for i, step in enumerate(exercise.steps)]
    fields += [("feel", exercise.feel), ("stop_if", exercise.stop_if), ("why", exercise.why)]
    problems: list[str] = []
    rendered: list[str] = []
    for side in SIDES:
        for name, source in fields:
            try:
                value = text.fill(source, side)
            except jinja2.TemplateError as exc:
                problems.append(f"{path}: {name}: does not render for side {side}: {exc}")
                continue
            if side == "left":
                rendered.append(value)
    if exercise.laterality.value == "none":
        for name, source in fields:
            if "{{" in source:
                problems.append(
                    f"{path}: {name}: names a side, but the exercise is done with both legs "
                    "together (laterality none)"
                )
    return rendered, sorted(set(problems))


def _picture_problems(exercise: Exercise, path: Path) -> list[str]:
    """The picture draws for either side, shows every piece of equipment, and moves."""
    from reportlab.pdfgen.canvas import Canvas

    from .drawing import MIN_MOVEMENT, draw_pose, missing_props, movement, scene

    try:
        canvas = Canvas(io.BytesIO())
        for side in ("left", "right"):
            drawing = draw_pose(exercise.pose, 200, 100, side=side)
            drawing.wrapOn(canvas, 200, 100)
            drawing.drawOn(canvas, 0, 0)
        missing = missing_props(exercise.pose, exercise.equipment)
        moved = movement(exercise.pose)
        arrow = "arrow" in scene(exercise.pose, "end").tags()
    except Exception as exc:  # any failure to draw is a broken picture
        return [f"{path}: pose: cannot be drawn: {type(exc).__name__}: {exc}"]
    problems = [
        f"{path}: pose.props: the picture does not draw the {name} the exercise needs "
        "(in both start and end)"
        for name in missing
    ]
    if not arrow:
        problems.append(
            f"{path}: pose: the end picture has no arrow (give pose.move or pose.arrows)"
        )
    if moved < MIN_MOVEMENT:
        problems.append(
            f"{path}: pose: start and end look the same (the body moves {moved:.1f} units; "
            f"at least {MIN_MOVEMENT:g})"
        )
    return problems


def reading_grade(texts: list[str]) -> float:
    """Flesch-Kincaid grade of a list of sentences (each given its full stop)."""
    with warnings.catch_warnings():
        # textstat 0.7.4 imports pkg_resources, whose deprecation notice is not the user's.
        warnings.filterwarnings("ignore", "pkg_resources is deprecated", UserWarning)
        import textstat

    joined = " ".join(t if t.rstrip()[-1:] in ".!?" else t.rstrip() + "." for t in texts if t)
    return float(textstat.flesch_kincaid_grade(joined))

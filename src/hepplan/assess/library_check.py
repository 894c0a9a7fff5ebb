"""``hepplan library check``: is a library fit to print for patients?

Beyond what loading already refuses (schema, vocabularies, unique ids, links, loops), it renders
every text for every side, draws every picture for either side (with the equipment the exercise
needs, and a start and end that differ), and measures reading level with textstat's
Flesch-Kincaid grade: at most 7 for any exercise (CLINICAL.md §3), and so a median of at most 7.
It also derives from each exercise's pictures and words the tags it must carry (``tag_problems``,
``text_problems``), so a mis-tag that would switch a safety rule off cannot go unnoticed.
"""

from __future__ import annotations

import io
import statistics
import warnings
from dataclasses import dataclass
from pathlib import Path

from hepplan.domain.library import Exercise
from hepplan.io.library import read_library

MAX_GRADE = 7.0
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
        problems += tag_problems(exercise, path)
        problems += text_problems(exercise, path)
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

    from hepplan.domain.library import fill_side

    fields = [(f"steps[{i}]", step) for i, step in enumerate(exercise.steps)]
    fields += [("feel", exercise.feel), ("stop_if", exercise.stop_if), ("why", exercise.why)]
    problems: list[str] = []
    rendered: list[str] = []
    for side in SIDES:
        for name, source in fields:
            try:
                value = fill_side(source, side)
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

    from hepplan.render.drawing import MIN_MOVEMENT, draw_pose, missing_props, movement, scene

    try:
        canvas = Canvas(io.BytesIO())
        for side in ("left", "right"):
            drawing = draw_pose(exercise.pose, 200, 100, side=side)
            drawing.wrapOn(canvas, 200, 100)
            drawing.drawOn(canvas, 0, 0)
        missing = missing_props(exercise.pose, [e.value for e in exercise.equipment])
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


# --- tags that the pictures prove ----------------------------------------------------------------
#
# A tag says what the body does. The pose data shows what the body does, so `library check`
# derives from it the tags an exercise must carry (and the position tags it may carry), reading
# from each picture only what its view shows (pose.py):
#
# - side: heights above the floor, and the hip, knee and head angles (a prone figure faces the
#   floor, so its angles mirror);
# - front and back: heights, but no hip or knee bend (a thigh that bends comes at the viewer);
#   a body lying level, seen from its front or back, lies on its side;
# - above: the patient lies down (on the back, or with ``lying: side`` on the side); nothing is
#   a height, and only a body on its side shows its hip, knee and head angles.
#
# A picture's props say what the body rests on: a chair seat or an exercise bike is sitting.

#: Drawing units (pose.BONES: thigh 21, shin 20).
FOOT_OFF_GROUND = 4.0  # one foot this much higher than the other: standing on one leg
STANDING_HIP = 28.0  # the hip at least this high above the floor: standing
LYING_HIP = 18.0  # the hip at most this high (a bridge lifts it), trunk near level: lying
LYING_TRUNK = 30.0  # side view: the trunk at most this far from level while lying
PROPPED_TRUNK = 45.0  # front and back views: on the side, propped on an elbow, is still lying
KNEE_ON_FLOOR = 2.5  # a knee this close to the floor: kneeling
BODY_MOVES = 3.0  # the hip rises or sinks this much on one leg: body-weight work on one leg
STRAIGHT_KNEE = 20.0  # knee bent less than this: straight
DEEP_HIP = 100.0  # past 90° is deep (CLINICAL.md §2); 10° allowed for the drawing
NERVE_HIP_FLEXION = 60.0  # straight-knee hip flexion past this tensions the sciatic nerve
NERVE_HIP_EXTENSION = 10.0  # hip extension past this with the knee bent: the femoral nerve
BENT_KNEE = 45.0
KNEES_TO_CHEST = 110.0  # both hips past this while lying: the spine curls to its end
HEAD_CURLED = 60.0  # head bowed this far from the trunk with the hips flexed: a curled spine
LUNGE_FRONT_HIP = 60.0  # from standing, the front hip flexed this far ...
LUNGE_BACK_KNEE = 60.0  # ... and the back knee bent this far ...
LUNGE_SPLIT = 45.0  # ... with the hips this far apart (a squat bends both legs alike): a lunge
STILL = 10.0  # no leg or trunk segment turns more than this: an isometric hold
STILL_SHORT = 0.15  # ... nor comes at the viewer by more than this share of its length

LEGS = ("near", "far")
POSITION_TAGS = ("prone", "supine", "side_lying", "kneeling", "seated", "standing")


def _wrap(angle: float) -> float:
    """An angle in (-180, 180]."""
    angle = angle % 360
    return angle - 360 if angle > 180 else angle


@dataclass(frozen=True)
class _Body:
    """What one picture shows: joint heights above the floor and the joint angles.

    Which of them mean something depends on the view (see above): the callers ask."""

    heights: dict[str, float]
    hip_flexion: dict[str, float]  # per leg: + flexion, - extension
    knee_flexion: dict[str, float]
    head_bow: float  # + head bowed toward the chest
    trunk: float  # degrees from level (0 lying, 90 upright)
    seat: bool  # sitting on a chair seat or an exercise bike


def _body(pose, frame, mirrored: bool) -> _Body:
    from hepplan.domain.pose import LINE_HALF_WIDTH, lowest, skeleton

    points = skeleton(frame, pose.body_view)
    floor = lowest(points) + LINE_HALF_WIDTH
    heights = {name: y - floor for name, (_, y) in points.items()}
    sign = -1.0 if mirrored else 1.0
    trunk = frame.angle("trunk")
    hip = {leg: sign * _wrap(frame.angle(f"{leg}_thigh") - trunk - 180) for leg in LEGS}
    knee = {
        leg: sign * _wrap(frame.angle(f"{leg}_thigh") - frame.angle(f"{leg}_shin")) for leg in LEGS
    }
    bow = sign * _wrap(trunk - frame.angle("head"))
    level = abs(_wrap(trunk))
    props = pose.frame_props(frame)
    # the chair seat stays drawn when the patient stands up from it (sit to stand)
    seat = props.bike or (props.chair == "seat" and heights["hip"] < STANDING_HIP)
    return _Body(heights, hip, knee, bow, min(level, 180 - level), seat)


def _standing(body: _Body) -> bool:
    return not body.seat and body.heights["hip"] >= STANDING_HIP


def _foot(body: _Body, leg: str) -> float:
    """How high a foot's lowest point (heel or toe) is."""
    return min(body.heights[f"{leg}_ankle"], body.heights[f"{leg}_toe"])


def _on_one_leg(body: _Body) -> bool:
    return abs(_foot(body, "near") - _foot(body, "far")) >= FOOT_OFF_GROUND


def _lying(body: _Body, view: str) -> bool:
    """Hip near the floor and trunk near level. From the side, a knee under the hip is
    kneeling; from the front or back, the body lies on its side, perhaps propped on an elbow."""
    if body.heights["hip"] > LYING_HIP:
        return False
    if view != "side":
        return body.trunk <= PROPPED_TRUNK
    knee = min(body.heights["near_knee"], body.heights["far_knee"])
    return body.trunk <= LYING_TRUNK and knee >= body.heights["hip"] - 5


def _kneeling(body: _Body, view: str) -> bool:
    knee_down = min(body.heights["near_knee"], body.heights["far_knee"]) <= KNEE_ON_FLOOR
    return not body.seat and knee_down and not _lying(body, view) and not _standing(body)


def derived_tags(exercise: Exercise) -> tuple[set[str], set[str]]:
    """What the pictures prove: (tags the exercise must carry, position tags it may carry).

    Each required tag may be met by any of a few words (a slider is not a tensioner): the
    first set holds "a|b" alternatives."""
    pose = exercise.pose
    mirrored = "prone" in {t.value for t in exercise.tags}
    frames = (_body(pose, pose.start, mirrored), _body(pose, pose.end, mirrored))
    if pose.view == "above":  # the patient lies on the mat; nothing in the picture is a height
        lying = "side_lying" if pose.lying == "side" else "prone|supine"
        must, may = {lying}, set(lying.split("|"))
    else:
        must, may = _position_tags(pose.view, frames)
        must |= _one_leg_tags(exercise, frames)
    if pose.body_view == "side":  # the hip and knee bends lie in the picture's plane
        must |= _joint_tags(frames, pose.view)
    if exercise.category.value in ("strength", "motor_control") and _still(exercise):
        must.add("isometric")
    return must, may


def _position_tags(view: str, frames: tuple[_Body, _Body]) -> tuple[set[str], set[str]]:
    """Sitting or lying in any picture, standing or kneeling at the start: must; any: may."""
    lying = "prone|supine|side_lying" if view == "side" else "side_lying"
    must: set[str] = set()
    may: set[str] = set()
    for body in frames:
        if body.seat:
            must.add("seated")
            may.add("seated")
        if _lying(body, view):
            must.add(lying)
            may |= set(lying.split("|"))
        if _standing(body):
            may.add("standing")
        if _kneeling(body, view):
            may.add("kneeling")
    start = frames[0]
    if _standing(start):
        must.add("standing")
    if _kneeling(start, view):
        must.add("kneeling")
    return must, may


def _one_leg_tags(exercise: Exercise, frames: tuple[_Body, _Body]) -> set[str]:
    """Standing on one leg, and body-weight work on it (from the heights: any upright view)."""
    start, end = frames
    must: set[str] = set()
    if any(_standing(b) and _on_one_leg(b) for b in frames):
        must.add("single_leg")
        if abs(start.heights["hip"] - end.heights["hip"]) >= BODY_MOVES:
            must.add("high_load")
    if _standing(start):
        must |= _load_tags(exercise, end)
    return must


def _load_tags(exercise: Exercise, end: _Body) -> set[str]:
    """Step-ups and step-downs, lunges and wall sits: body-weight work that is high_load.
    A lunge and a wall sit are read from their hip and knee bends: from the side only."""
    pose = exercise.pose
    steps = {pose.frame_props(frame).step for frame in (pose.start, pose.end)}
    if steps & {"near_foot", "far_foot"}:
        return {"single_leg", "high_load"}
    if pose.view != "side":
        return set()
    knees, hips = end.knee_flexion, end.hip_flexion
    front = max(LEGS, key=lambda leg: hips[leg])
    back = "far" if front == "near" else "near"
    lunge = (
        hips[front] >= LUNGE_FRONT_HIP
        and knees[back] >= LUNGE_BACK_KNEE
        and hips[front] - hips[back] >= LUNGE_SPLIT
    )
    wall = pose.frame_props(pose.end).wall
    wall_sit = wall == "behind" and end.trunk >= 70 and min(knees.values()) >= BENT_KNEE
    if lunge:
        return {"single_leg", "high_load"}
    return {"high_load"} if wall_sit else set()


def _joint_tags(frames: tuple[_Body, ...], view: str) -> set[str]:
    must: set[str] = set()
    for body in frames:
        for leg in LEGS:
            hip, knee = body.hip_flexion[leg], body.knee_flexion[leg]
            if hip > DEEP_HIP:
                must.add("deep_hip_flexion|deep_hip_flexion_adduction")
            if knee < STRAIGHT_KNEE and hip > NERVE_HIP_FLEXION:
                must.add("nerve_tensioner|nerve_slider")
            if knee > BENT_KNEE and hip < -NERVE_HIP_EXTENSION:
                must.add("nerve_tensioner|nerve_slider")
        both = min(body.hip_flexion.values())
        # seen from above, every body lies: its heights are not heights
        if both > KNEES_TO_CHEST and (view == "above" or _lying(body, view)):
            must.add("spinal_flexion_end_range")
        if body.head_bow > HEAD_CURLED and max(body.hip_flexion.values()) > DEEP_HIP:
            must.add("spinal_flexion_end_range")
    return must


def _still(exercise: Exercise) -> bool:
    start, end = exercise.pose.start, exercise.pose.end
    names = ["trunk"] + [f"{leg}_{part}" for leg in LEGS for part in ("thigh", "shin", "foot")]
    turns = all(abs(_wrap(start.angle(n) - end.angle(n))) <= STILL for n in names)
    # a thigh that comes at the viewer moves, though its angle on the page stays
    comes = any(abs(start.short.get(n, 1) - end.short.get(n, 1)) > STILL_SHORT for n in names)
    return turns and not comes


def tag_problems(exercise: Exercise, path: Path) -> list[str]:
    """Tags the pictures prove but the exercise lacks, and position tags they disprove."""
    tags = {t.value for t in exercise.tags}
    must, may = derived_tags(exercise)
    problems = []
    for needed in sorted(must):
        options = needed.split("|")
        if not tags & set(options):
            problems.append(
                f"{path}: tags: the pose shows {_SHOWS[options[0]]}, so it must carry "
                + " or ".join(options)
            )
    for tag in POSITION_TAGS:
        if tag in tags and tag not in may:
            problems.append(f"{path}: tags: {tag} does not match the pose ({_NOT_SHOWN[tag]})")
    return problems


_SHOWS = {
    "seated": "sitting on a seat",
    "standing": "a standing start",
    "prone": "lying down",
    "side_lying": "lying on the side",
    "kneeling": "a kneeling start",
    "single_leg": "standing on one leg",
    "high_load": "the body rising or sinking on one leg",
    "deep_hip_flexion": f"hip flexion past {DEEP_HIP:g}°",
    "nerve_tensioner": "a nerve under tension (hip flexed with the knee straight, or hip "
    "extended with the knee bent)",
    "spinal_flexion_end_range": "the spine curled to its end",
    "isometric": "a hold with no movement",
}
_NOT_SHOWN = {
    "prone": "no picture lies face down or face up",
    "supine": "no picture lies face down or face up",
    "side_lying": "no picture lies on the side",
    "kneeling": "no picture kneels",
    "seated": "no picture sits on a chair or a bike",
    "standing": "no picture stands",
}


# --- tags and equipment that the words prove -----------------------------------------------------

#: Words in a step that mean impact: such an exercise must carry high_impact.
IMPACT_WORDS = (
    *(f"{stem}{end}" for stem in ("jump", "hop", "run", "jog") for end in ("", "s", "ing", "ed")),
    *("hopping", "hopped", "running", "jogging", "jogged"),
)
#: A library "why" is printed whatever else is in the program: it may not lean on another exercise.
PROGRAM_WORDS = (
    "before you stretch",
    "before your stretch",
    "after you stretch",
    "after your stretch",
    "instead of",
    "in place of",
    "as well as",
)
PILLOW = "pillow between your knees"


def text_problems(exercise: Exercise, path: Path) -> list[str]:
    """Words that contradict the tags, equipment or name, and whys that depend on the program."""
    tags = {t.value for t in exercise.tags}
    steps = " ".join(exercise.steps).lower()
    problems = []
    if _says(steps, IMPACT_WORDS) and "high_impact" not in tags:
        problems.append(f"{path}: tags: a step says {_says(steps, IMPACT_WORDS)!r}: high_impact")
    if "bike" in steps and "exercise_bike" not in {e.value for e in exercise.equipment}:
        problems.append(f"{path}: equipment: a step needs a bike: exercise_bike")
    lying_on_other_side = exercise.lying_side is not None and exercise.lying_side.value == "other"
    if lying_on_other_side and PILLOW not in steps:
        problems.append(
            f"{path}: steps: lying on the other side needs a step that says to put a {PILLOW} "
            "(it keeps the top hip off its tendons, CLINICAL.md §2 gtps)"
        )
    if "isometric" in tags and not all(
        getattr(exercise.dosing, level).hold_s for level in ("high", "moderate", "low")
    ):
        problems.append(f"{path}: dosing: isometric work holds (hold_s) at every irritability")
    if "balance" in tags and "standing" not in tags:
        problems.append(f"{path}: tags: balance work is done standing: add standing")
    if "brace" in exercise.name.lower() and "draw" in steps:
        problems.append(f"{path}: steps: the name says brace, but a step draws the belly in")
    word = _says(exercise.why.lower(), PROGRAM_WORDS)
    if word:
        problems.append(
            f"{path}: why: {word!r} depends on the rest of the program; the planner adds such "
            "words, the library's why stands alone"
        )
    return problems


def _says(text: str, words: tuple[str, ...]) -> str | None:
    import re

    return next((w for w in words if re.search(rf"\b{w}\b", text)), None)

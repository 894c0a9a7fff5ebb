"""Every exercise has a picture a patient can read at a glance, drawn from its pose data.

The checks here are the ones a reviewer makes by eye: start and end differ, no two exercises
look alike, the equipment is in the picture, the picture fills its box, the side is right."""

from __future__ import annotations

import io
import itertools
import math

import pypdf
import pytest
from pydantic import ValidationError
from reportlab.lib import colors

from hepplan.cli import cli
from hepplan.domain.clinic import Clinic
from hepplan.domain.pose import Frame, Pose, face_angle, skeleton
from hepplan.render.drawing import (
    MIN_MOVEMENT,
    MOVE_FILL,
    SKIN,
    Scene,
    _foot,
    draw_pose,
    missing_props,
    movement,
    scene,
)
from hepplan.render.handout import picture
from hepplan.render.kit import styles
from hepplan.render.pdf import render_pictures

#: Two exercises look alike when, in the same view with the same props, no joint of either
#: frame is further apart than this (body units; a shin is 20).
NEAR_DUPLICATE = 5.0
NOT_PROPS = {"body", "hair", "ghost", "arrow", "mark", "gaze", "gap"}


def test_the_default_frame_stands_upright():
    points = skeleton(Frame())
    assert points["head"][1] > points["shoulder"][1] > points["hip"][1] > points["near_knee"][1]
    assert points["near_ankle"][0] == pytest.approx(0.0, abs=1e-9)


def test_far_limbs_copy_near_ones_unless_given():
    frame = Frame(near_thigh=300)
    assert frame.angle("far_thigh") == 300
    assert Frame(near_thigh=300, far_thigh=250).angle("far_thigh") == 250
    assert Frame(trunk=180).angle("head") == 180


def test_seen_from_the_front_a_far_limb_mirrors_the_near_one():
    points = skeleton(Frame(near_thigh=290), "front")
    assert points["near_hip"][0] == pytest.approx(-points["far_hip"][0])
    assert points["near_ankle"][0] == pytest.approx(-points["far_ankle"][0])
    assert points["near_ankle"][0] > points["near_hip"][0]  # the leg goes out to the side


def test_seen_from_behind_the_left_leg_is_on_the_left():
    front, back = skeleton(Frame(), "front"), skeleton(Frame(), "back")
    assert front["near_hip"][0] > 0 > back["near_hip"][0]


@pytest.mark.parametrize("frame", ["start", "end"])
@pytest.mark.parametrize("mirror", [False, True])
def test_every_pose_rests_on_the_floor(library, frame, mirror):
    for exercise in library:
        drawn = scene(exercise.pose, frame, mirror=mirror)
        _, bottom, _, top = drawn.bounds()
        assert bottom >= drawn.floor - 1e-6, exercise.id
        assert top - drawn.floor < 120, exercise.id


def test_start_and_end_differ_by_a_real_amount(library):
    for exercise in library:
        assert movement(exercise.pose) >= MIN_MOVEMENT, exercise.id


def test_the_end_picture_shows_what_moves_and_which_way(library):
    for exercise in library:
        end = scene(exercise.pose, "end")
        assert "arrow" in end.tags(), exercise.id
        assert exercise.pose.moving(), exercise.id
        assert "arrow" not in scene(exercise.pose, "start").tags(), exercise.id


def _look(pose: Pose):
    props = tuple(sorted(scene(pose, w).tags() - NOT_PROPS) for w in ("start", "end"))
    return pose.view, props


def _difference(a: Pose, b: Pose) -> float:
    """The largest distance between the same joint of two poses, over both frames."""
    gaps = []
    for which in ("start", "end"):
        pa = skeleton(getattr(a, which), a.body_view)
        pb = skeleton(getattr(b, which), b.body_view)
        gaps.append(max(math.dist(pa[k], pb[k]) for k in pa))
    return max(gaps)


def test_no_two_exercises_look_alike(library):
    for a, b in itertools.combinations(library, 2):
        if _look(a.pose) == _look(b.pose):
            assert _difference(a.pose, b.pose) >= NEAR_DUPLICATE, (a.id, b.id)


def test_the_check_for_look_alikes_can_fail(library):
    clamshell = library["clamshell"]
    twin = clamshell.pose.model_copy(update={"end": clamshell.pose.end.model_copy()})
    assert _look(twin) == _look(clamshell.pose)
    assert _difference(twin, clamshell.pose) < NEAR_DUPLICATE


def test_every_prop_an_exercise_needs_is_drawn(library):
    for exercise in library:
        needs = [e.value for e in exercise.equipment]
        assert missing_props(exercise.pose, needs) == [], exercise.id


def test_cycling_is_drawn_on_an_exercise_bike(library):
    bikes = [e for e in library if "exercise bike" in " ".join(e.steps)]
    assert bikes
    for exercise in bikes:
        assert "bike" in scene(exercise.pose, "start").tags(), exercise.id


def test_a_missing_band_is_found():
    pose = Pose.model_validate({"props": {"mat": True}, "start": {}, "end": {"near_thigh": 300}})
    assert missing_props(pose, ["resistance_band", "mat"]) == ["resistance_band"]


def test_a_tied_band_is_drawn_to_the_table(library):
    exercise = library["banded_dorsiflexion"]
    assert {"band", "table", "chair"} <= scene(exercise.pose, "start").tags()


def _fill(drawing) -> float:
    """How much of its box the bigger frame fills: the larger of width and height share."""
    best = 0.0
    for panel in drawing.layout():
        x0, y0, x1, y1 = panel.scene.bounds()
        y0 = min(y0, panel.scene.floor)
        best = max(
            best,
            (x1 - x0) * panel.scale / panel.width,
            (y1 - y0) * panel.scale / panel.height,
        )
    return best


@pytest.mark.parametrize("large", [False, True])
def test_a_picture_fills_its_box_on_a_card(library, large):
    s = styles(large)
    for exercise in library:
        assert _fill(picture(exercise.pose, s, 480)) >= 0.6, exercise.id


def test_in_large_print_the_picture_is_full_width(library):
    drawn = picture(library["bridge"].pose, styles(True), 480)
    assert drawn.width >= 480 - 2 * 5


def test_the_picture_shows_the_patients_side(library):
    clamshell = library["clamshell"]
    s = styles(False)
    assert not picture(clamshell.pose, s, 480, "left").mirror
    assert picture(clamshell.pose, s, 480, "right").mirror
    assert not picture(clamshell.pose, s, 480, "both").mirror  # both sides start with the left
    left = scene(clamshell.pose, "end")
    right = scene(clamshell.pose, "end", mirror=True)
    for a, b in zip(left.shapes, right.shapes, strict=True):
        mirrored = [c for x, y in a.pts for c in (-x, y)]
        assert mirrored == pytest.approx([c for point in b.pts for c in point])


def test_the_picture_sheet_draws_every_exercise(library):
    data = render_pictures(list(library), Clinic())
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for exercise in library:
        assert f"({exercise.id})" in text.replace("\n", " ")
    assert text.count("Start") == len(library)
    assert text.count("End") == len(library)


def test_a_drawing_is_the_same_every_time(library):
    from reportlab.pdfgen.canvas import Canvas

    def draw() -> bytes:
        out = io.BytesIO()
        canvas = Canvas(out, invariant=1)
        for exercise in library:
            drawing = draw_pose(exercise.pose, 200, 110, side="right")
            drawing.wrapOn(canvas, 200, 110)
            drawing.drawOn(canvas, 0, 0)
            canvas.showPage()
        canvas.save()
        return out.getvalue()

    assert draw() == draw()


def test_a_pose_with_a_bad_key_is_refused():
    with pytest.raises(ValidationError):
        Pose.model_validate({"start": {"trunk": 90, "tail": 10}, "end": {}})


@pytest.mark.parametrize(
    "pose",
    [
        {"view": "sideways", "start": {}, "end": {}},
        {"start": {"short": {"near_thigh": 0}}, "end": {}},
        {"props": {"band": ["near_knee", "elbow"]}, "start": {}, "end": {}},
        {"move": ["tail"], "start": {}, "end": {}},
        {"arrows": [{"at": "near_toe", "by": [500, 0]}], "start": {}, "end": {}},
    ],
)
def test_a_bad_pose_is_refused(pose):
    with pytest.raises(ValidationError):
        Pose.model_validate(pose)


@pytest.fixture
def copy(tmp_path):
    import shutil

    from tests.test_library import LIBRARY

    folder = tmp_path / "exercises"
    shutil.copytree(LIBRARY, folder)
    return folder


def _check(runner, folder):
    result = runner.invoke(cli, ["library", "check", "--library", str(folder)])
    return result.exit_code, [line.removeprefix("error: ") for line in result.stderr.splitlines()]


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_library_check_refuses_an_unknown_view(runner, copy):
    path = copy / "clamshell.yaml"
    _edit(path, "  view: front", "  view: sideways")
    code, lines = _check(runner, copy)
    assert code == 1
    assert lines[0].startswith(f"{path}: pose.view: ")
    assert "side" in lines[0] and "front" in lines[0] and "above" in lines[0]


def test_library_check_finds_a_band_the_picture_leaves_out(runner, copy):
    path = copy / "banded_clamshell.yaml"
    _edit(path, ", band: [near_knee, far_knee]", "")
    code, lines = _check(runner, copy)
    assert code == 1
    assert lines[:-1] == [
        f"{path}: pose.props: the picture does not draw the resistance_band the exercise needs "
        "(in both start and end)"
    ]


def test_library_check_finds_a_bike_the_picture_leaves_out(runner, copy):
    """The exercise_bike equipment is drawn by the bike prop: without it, the check says so."""
    path = copy / "cycling.yaml"
    _edit(path, "props: {bike: true}", "props: {}")
    code, lines = _check(runner, copy)
    assert code == 1
    assert (
        f"{path}: pose.props: the picture does not draw the exercise_bike the exercise needs "
        "(in both start and end)"
    ) in lines


def test_library_check_finds_a_picture_that_does_not_move(runner, copy):
    path = copy / "bridge.yaml"
    text = path.read_text()
    start = text[text.index("  start: ") :].splitlines()[0]
    end = text[text.index("  end: ") :].splitlines()[0]
    path.write_text(text.replace(end, "  end:" + start.removeprefix("  start:")))
    code, lines = _check(runner, copy)
    assert code == 1
    assert lines[:-1] == [
        f"{path}: pose: the end picture has no arrow (give pose.move or pose.arrows)",
        f"{path}: pose: start and end look the same (the body moves 0.0 units; at least 4)",
        f"{path}: tags: the pose shows a hold with no movement, so it must carry isometric",
    ]


def test_library_check_finds_a_picture_without_an_arrow(runner, copy):
    path = copy / "clamshell.yaml"
    _edit(path, "  arrows: [{at: near_knee}]", "  arrows: []")
    code, lines = _check(runner, copy)
    assert code == 1
    assert lines[:-1] == [
        f"{path}: pose: the end picture has no arrow (give pose.move or pose.arrows)"
    ]


def test_a_pose_cannot_ask_for_endless_arrows():
    arrows = [{"at": "near_toe"}] * 7
    with pytest.raises(ValidationError):
        Pose.model_validate({"arrows": arrows, "start": {}, "end": {}})


def _held(exercise) -> bool:
    """Isometric work, or a stretch held still (a hold time at every irritability)."""
    if "isometric" in {t.value for t in exercise.tags}:
        return True
    levels = ("high", "moderate", "low")
    return exercise.category.value == "stretch" and all(
        getattr(exercise.dosing, level).hold_s for level in levels
    )


def test_every_hold_shows_a_stopwatch_in_the_end_picture(library):
    holds = [e for e in library if _held(e)]
    assert len(holds) >= 11
    for exercise in holds:
        assert "hold" in scene(exercise.pose, "end").tags(), exercise.id
        assert "hold" not in scene(exercise.pose, "start").tags(), exercise.id


def test_a_moving_exercise_shows_no_stopwatch(library):
    """Glides, tensioners and strength work done in repetitions never show one."""
    for exercise in library:
        if not _held(exercise):
            assert "hold" not in scene(exercise.pose, "end").tags(), exercise.id


def _insets(drawn):
    return [shape for shape in drawn.shapes if shape.kind == "inset"]


@pytest.mark.parametrize(
    "exercise_id",
    [
        "heel_raises",
        "single_leg_heel_raises",
        "standing_toe_raises",
        "seated_heel_raises",
        "seated_toe_raises",
        "seated_ankle_nerve_glide",
    ],
)
def test_a_foot_movement_is_shown_again_enlarged(library, exercise_id):
    """The heel or toes move a few units: an inset shows the foot at least twice as big, in
    both pictures, at the same place on the floor, and inside the picture's box."""
    pose = library[exercise_id].pose
    windows = []
    for which in ("start", "end"):
        drawn = scene(pose, which)
        (inset,) = _insets(drawn)
        assert inset.times >= 2
        (sx, sy), (cx, cy) = inset.pts
        windows.append(sy - drawn.floor)
        x0, y0, x1, y1 = drawn.bounds()
        big = inset.width * inset.times
        assert x0 <= cx - big and cx + big <= x1 and y0 <= cy - big and cy + big <= y1
        assert math.dist((sx, sy), (cx, cy)) > inset.width + big  # beside, not on top
    assert abs(windows[0] - windows[1]) < 1.5, "the inset looks at the same height above the floor"


def test_an_inset_is_mirrored_with_the_picture(library):
    pose = library["heel_raises"].pose
    (left,) = _insets(scene(pose, "end"))
    (right,) = _insets(scene(pose, "end", mirror=True))
    assert right.pts == [(-x, y) for x, y in left.pts]


@pytest.mark.parametrize(
    "zoom",
    [
        {"at": "near_toe", "off": [20, 20], "times": 9},
        {"at": "near_toe", "off": [20, 20], "radius": 0},
        {"at": "heel", "off": [20, 20]},
        {"at": "near_toe"},
    ],
)
def test_a_bad_zoom_is_refused(zoom):
    with pytest.raises(ValidationError):
        Pose.model_validate({"zoom": zoom, "start": {}, "end": {}})


def test_a_bad_hold_is_refused():
    with pytest.raises(ValidationError):
        Pose.model_validate({"hold": {"at": "belly"}, "start": {}, "end": {}})


@pytest.mark.parametrize("exercise_id", ["abdominal_bracing", "seated_core_brace"])
def test_a_belly_brace_colours_the_belly_under_the_hand(library, exercise_id):
    """The brace moves nothing: the end picture shows the working belly as an orange patch,
    drawn over the torso and under the hand that rests on it; the start picture has none."""
    pose = library[exercise_id].pose
    assert not any(s.tag == "mark" for s in scene(pose, "start").shapes)
    shapes = scene(pose, "end").shapes
    (patch,) = [i for i, s in enumerate(shapes) if s.tag == "mark"]
    assert shapes[patch].fill is not None and shapes[patch].kind == "circle"
    hand = skeleton(pose.end, pose.body_view)["near_hand"]
    assert math.dist(hand, shapes[patch].pts[0]) < shapes[patch].width + 4
    hands = [i for i, s in enumerate(shapes) if s.kind == "circle" and s.pts == [hand]]
    assert hands and max(hands) > patch  # the near hand rests on the patch


@pytest.mark.parametrize(
    "mark", [{"at": "belly"}, {"at": "hip", "size": 30}, {"at": "hip", "off": [200, 0]}]
)
def test_a_bad_mark_is_refused(mark):
    with pytest.raises(ValidationError):
        Pose.model_validate({"mark": mark, "start": {}, "end": {}})


def _lowest_end(drawn_foot: Scene, ankle, toe) -> str:
    """Which end of a drawn foot touches the floor: the heel (the back third) or the toes."""
    x, y = min(drawn_foot.shapes[1].pts, key=lambda point: point[1])
    ux, uy = toe[0] - ankle[0], toe[1] - ankle[1]
    along = ((x - ankle[0]) * ux + (y - ankle[1]) * uy) / (ux * ux + uy * uy)
    return "heel" if along < 0.33 else "toes"


@pytest.mark.parametrize(
    ("angle", "on_floor"),
    [(0, "heel"), (320, "toes"), (40, "heel")],  # flat, heel up, toes up
)
def test_a_foot_shows_its_heel_and_its_toes(angle, on_floor):
    """The foot has a heel behind the ankle and toes in front: with the heel lifted the toes
    touch the floor, with the toes lifted the heel does, so the two never look alike."""
    ankle, knee = (0.0, 0.0), (0.0, 20.0)
    toe = (8 * math.cos(math.radians(angle)), 8 * math.sin(math.radians(angle)))
    drawn = Scene()
    _foot(drawn, ankle, toe, knee, "outline", "fill")
    outline = drawn.shapes[1].pts
    assert min(x for x, _ in outline) < -2  # the heel sticks out behind the ankle
    assert max(x for x, _ in outline) > toe[0]  # the toes end beyond the foot's tip
    if angle:
        assert _lowest_end(drawn, ankle, toe) == on_floor


@pytest.mark.parametrize(
    ("exercise_id", "lifted"),
    [
        ("heel_raises", "heel"),
        ("seated_heel_raises", "heel"),
        ("single_leg_heel_raises", "heel"),
        ("seated_toe_raises", "toes"),
        ("standing_toe_raises", "toes"),
        ("heel_walking", "toes"),
    ],
)
def test_heel_lifts_and_toe_lifts_are_drawn_apart(library, exercise_id, lifted):
    """In the end picture the working foot rests on the end that does not lift."""
    pose = library[exercise_id].pose
    p = skeleton(pose.end, pose.body_view)
    drawn = Scene()
    _foot(drawn, p["near_ankle"], p["near_toe"], p["near_knee"], "outline", "fill")
    assert _lowest_end(drawn, p["near_ankle"], p["near_toe"]) != lifted


@pytest.mark.parametrize("exercise_id", ["abdominal_bracing", "seated_core_brace"])
def test_in_a_belly_brace_only_the_belly_is_orange(library, exercise_id):
    """Nothing moves in a brace: the arm that rests on the belly stays plain blue."""
    end = scene(library[exercise_id].pose, "end")
    orange = [s for s in end.shapes if MOVE_FILL in (s.fill, s.stroke)]
    assert orange and all(s.tag == "mark" for s in orange)


def test_seen_from_above_a_patient_on_the_side_lies_head_up_the_mat(library):
    """Lying level across the page, a profile on a mat reads as lying on the back seen from
    the side. Seen from above, a patient on the side lies head up the mat, on a pillow, the
    face in profile: a body upright on the page, on a mat, can only be lying on the side."""
    sideways = [e for e in library if e.pose.view == "above" and e.pose.lying == "side"]
    assert {"femoral_tensioner", "side_lying_femoral_slider"} <= {e.id for e in sideways}
    for exercise in sideways:
        pose = exercise.pose
        assert pose.props.mat and pose.props.pillow, exercise.id
        for which in ("start", "end"):
            frame = getattr(pose, which)
            assert frame.trunk == 90, exercise.id
            p = skeleton(frame, pose.body_view)
            drawn = scene(pose, which)
            assert {"mat", "pillow"} <= drawn.tags(), exercise.id
            pillow = next(s for s in drawn.shapes if s.tag == "pillow")
            xs, ys = [x for x, _ in pillow.pts], [y for _, y in pillow.pts]
            assert min(xs) < p["head"][0] < max(xs) and min(ys) < p["head"][1] < max(ys)
            nose = [s for s in drawn.shapes if s.kind == "poly" and s.fill == SKIN]
            assert nose, "the face is drawn in profile"


def test_the_side_lying_thigh_stretch_and_glide_end_with_the_head_turned_opposite_ways(library):
    """Their legs end alike: the head tells them apart, chin down in the stretch and head
    back in the glide, by a turn a patient sees at a glance."""
    stretch = library["femoral_tensioner"].pose.end
    glide = library["side_lying_femoral_slider"].pose.end
    assert _nod(glide) - _nod(stretch) >= 120
    assert abs(_wrap(glide.angle("head") - stretch.angle("head"))) >= 60


def test_the_seated_figure_4_stretch_shows_the_ankle_across_the_other_knee(library):
    """Seen from the front, the crossed shin lies across the lap to the other knee."""
    pose = library["seated_figure_4_stretch"].pose
    assert pose.view == "front"
    p = skeleton(pose.start, pose.body_view)
    assert p["near_knee"][0] > p["near_hip"][0] + 5  # the knee drops out to the side
    assert abs(p["near_ankle"][0] - p["far_knee"][0]) < 4  # the ankle rests on the other knee
    assert abs(p["near_ankle"][1] - p["near_knee"][1]) < 3  # the shin lies level


def test_a_knee_pulled_up_toward_the_ceiling_is_drawn_over_the_body(library):
    """Seen from above, the thigh pulled across toward the other shoulder comes at the viewer:
    it is drawn over the torso, not hidden behind it; a leg lying flat stays under it."""
    pose = library["knee_to_opposite_shoulder"].pose
    p = skeleton(pose.end, pose.body_view)
    shapes = scene(pose, "end").shapes
    torso = next(i for i, s in enumerate(shapes) if s.kind == "poly" and s.tag == "body")

    def thigh(side: str) -> int:
        ends = [p[f"{side}_hip"], p[f"{side}_knee"]]
        return next(i for i, s in enumerate(shapes) if s.kind == "line" and s.pts == ends)

    assert thigh("near") > torso > thigh("far")


# --- what each picture must make obvious ---------------------------------------------------------


def _wrap(angle: float) -> float:
    return (angle + 180) % 360 - 180


def _nod(frame: Frame) -> float:
    """How far the face turns from looking straight ahead: + up (head back), - down (chin to
    chest). Straight ahead is square to the trunk, on the belly side."""
    return _wrap(face_angle(frame) - (frame.trunk - 90))


#: The glides move the head back as the limb tensions; the stretches tuck the chin first.
HEAD_BACK_AS_THE_LIMB_TENSIONS = [
    "seated_sciatic_slider",
    "seated_ankle_nerve_glide",
    "side_lying_femoral_slider",
    "standing_femoral_slider",
]
CHIN_DOWN_AS_THE_LIMB_TENSIONS = ["seated_sciatic_tensioner", "femoral_tensioner"]


def test_the_pictures_that_move_the_head_are_the_ones_whose_steps_say_so(library):
    says = {
        e.id
        for e in library
        if any(w in " ".join(e.steps) for w in ("head back", "chin down", "chin toward"))
    }
    assert says == set(HEAD_BACK_AS_THE_LIMB_TENSIONS + CHIN_DOWN_AS_THE_LIMB_TENSIONS)


@pytest.mark.parametrize("exercise_id", HEAD_BACK_AS_THE_LIMB_TENSIONS)
def test_a_nerve_glide_starts_chin_down_and_ends_looking_up(library, exercise_id):
    """A glide and a stretch of the same nerve differ by the head: in a glide the head goes
    back as the limb tensions, by a turn a patient sees at a glance."""
    pose = library[exercise_id].pose
    assert _nod(pose.start) <= -45, "the start tucks the chin"
    assert _nod(pose.end) >= 40, "the end looks up"
    assert _nod(pose.end) - _nod(pose.start) >= 100


@pytest.mark.parametrize("exercise_id", CHIN_DOWN_AS_THE_LIMB_TENSIONS)
def test_a_nerve_stretch_ends_chin_to_chest(library, exercise_id):
    pose = library[exercise_id].pose
    assert _nod(pose.end) <= -70, "the end tucks the chin to the chest"
    assert _nod(pose.start) - _nod(pose.end) >= 70, "the chin goes down a clear amount"


@pytest.mark.parametrize(
    "exercise_id", HEAD_BACK_AS_THE_LIMB_TENSIONS + CHIN_DOWN_AS_THE_LIMB_TENSIONS
)
def test_the_head_shows_which_way_it_turns(library, exercise_id):
    """The head is orange in the end picture, an arrow goes round the face and ends the way
    the face ends up looking, and a dashed line shows where the eyes look in both pictures."""
    pose = library[exercise_id].pose
    assert "head" in pose.moving()
    end = scene(pose, "end")
    head = skeleton(pose.end, pose.body_view)["head"]
    (nod,) = [a for a in pose.arrows if a.nod]
    assert nod.at == "head"
    arrows = [s for s in end.shapes if s.tag == "arrow"]
    tip = min((s.pts[-1] for s in arrows), key=lambda p: math.dist(p, head))
    pointing = math.degrees(math.atan2(tip[1] - head[1], tip[0] - head[0]))
    assert abs(_wrap(pointing - face_angle(pose.end))) < 30
    for which in ("start", "end"):
        frame = getattr(pose, which)
        (gaze,) = [s for s in scene(pose, which).shapes if s.tag == "gaze"]
        (x0, y0), (x1, y1) = gaze.pts
        assert math.dist((x0, y0), (x1, y1)) >= 10
        looks = math.degrees(math.atan2(y1 - y0, x1 - x0))
        assert abs(_wrap(looks - face_angle(frame))) < 1


@pytest.mark.parametrize(
    "exercise_id", HEAD_BACK_AS_THE_LIMB_TENSIONS + CHIN_DOWN_AS_THE_LIMB_TENSIONS
)
def test_the_head_arrow_is_the_boldest_in_the_picture(library, exercise_id):
    """Glide and stretch differ by the head alone: the arrow round the face is drawn bolder
    than the limb's arrow, so the head's turn is seen first, not missed."""
    pose = library[exercise_id].pose
    head = skeleton(pose.end, pose.body_view)["head"]
    arrows = [s for s in scene(pose, "end").shapes if s.tag == "arrow"]
    nod = min(arrows, key=lambda s: math.dist(s.pts[-1], head))
    others = [s for s in arrows if s is not nod]
    assert others and all(nod.width >= 1.4 * s.width for s in others)


def _ankle(frame: Frame) -> float:
    """The foot's angle to the shin: 90 square, more with the toes pulled up."""
    return _wrap(frame.angle("near_foot") - frame.angle("near_shin")) % 360


@pytest.mark.parametrize("exercise_id", ["supine_sciatic_slider", "seated_ankle_nerve_glide"])
def test_an_ankle_glide_turns_the_foot_a_clear_amount(library, exercise_id):
    """Toes pulled up at one end, pointed at the other: the foot turns on the shin by at least
    45 degrees, and it is orange in the end picture."""
    pose = library[exercise_id].pose
    assert abs(_ankle(pose.start) - _ankle(pose.end)) >= 45
    assert "near_foot" in pose.moving()


def test_the_pelvic_tilt_shows_the_gap_under_the_back_and_then_none(library):
    """The arched back leaves a yellow gap over the floor in the start picture that a patient
    sees at a glance; the end picture presses it flat: no gap."""
    pose = library["posterior_pelvic_tilt"].pose
    start, end = scene(pose, "start"), scene(pose, "end")
    (gap,) = [s for s in start.shapes if s.tag == "gap"]
    xs, ys = [x for x, _ in gap.pts], [y for _, y in gap.pts]
    area = 0.5 * abs(sum(xs[i] * ys[i - 1] - xs[i - 1] * ys[i] for i in range(len(gap.pts))))
    assert max(xs) - min(xs) >= 12 and max(ys) - min(ys) >= 2.5 and area >= 20
    body = next(i for i, s in enumerate(start.shapes) if s.tag == "body")
    assert start.shapes.index(gap) < body, "the gap is behind the body"
    assert "gap" not in end.tags()


def test_the_pelvic_tilt_goes_from_a_clear_arch_to_a_flat_back(library):
    """Told apart from a belly brace lying down (which does not move the back): a big arch at
    the start, and at the end a back that lies flat, not bowed down into the mat."""
    pose = library["posterior_pelvic_tilt"].pose
    assert pose.start.spine >= 20
    assert abs(pose.end.spine) <= 3
    assert pose.start.spine - pose.end.spine >= 20


def test_a_gap_is_drawn_only_under_an_arched_back(library):
    pose = library["posterior_pelvic_tilt"].pose
    flat = pose.model_copy(update={"start": pose.start.model_copy(update={"spine": 0})})
    assert "gap" not in scene(flat, "start").tags()


def _bend(p, leg: str) -> float:
    """The knee's bend as drawn, in degrees (0 straight)."""
    hip = p.get(f"{leg}_hip", p["hip"])
    knee, ankle = p[f"{leg}_knee"], p[f"{leg}_ankle"]
    a = math.atan2(knee[1] - hip[1], knee[0] - hip[0])
    b = math.atan2(ankle[1] - knee[1], ankle[0] - knee[0])
    return abs(_wrap(math.degrees(b - a)))


@pytest.mark.parametrize("which", ["start", "end"])
def test_the_side_plank_on_the_knees_rests_on_bent_knees(library, which):
    """The knees are bent (not straight legs) and they, not the feet, touch the floor."""
    pose = library["side_plank_knees"].pose
    p = skeleton(getattr(pose, which), pose.body_view)
    for leg in ("near", "far"):
        assert _bend(p, leg) >= 45, leg
        lowest = min(p[f"{leg}_{j}"][1] for j in ("knee", "ankle", "toe"))
        assert p[f"{leg}_knee"][1] == pytest.approx(lowest), leg


@pytest.mark.parametrize("which", ["start", "end"])
def test_the_side_plank_on_the_knees_is_propped_on_the_forearm(library, which):
    """Propped on the elbow with the forearm flat on the floor, the shoulder low over it: not
    a straight arm (which reads as a push-up or a front plank)."""
    pose = library["side_plank_knees"].pose
    p = skeleton(getattr(pose, which), pose.body_view)
    floor = min(y for _, y in p.values())
    assert p["near_elbow"][1] - floor < 1.5 and p["near_hand"][1] - floor < 1.5
    assert p["near_shoulder"][1] - p["near_elbow"][1] <= 12.5


@pytest.mark.parametrize("which", ["start", "end"])
def test_the_lying_figure_4_keeps_the_ankle_on_the_other_knee(library, which):
    """In both pictures the crossed ankle rests on the other knee, the crossed knee stands
    clear of it (an open "4", not a tangle), and only the pulled leg is orange."""
    pose = library["supine_figure_4_stretch"].pose
    p = skeleton(getattr(pose, which), pose.body_view)
    assert math.dist(p["near_ankle"], p["far_knee"]) < 7
    assert math.dist(p["near_knee"], p["far_knee"]) > 12
    assert {"far_thigh", "far_shin"} <= set(pose.moving())
    assert not {"near_thigh", "near_shin"} & set(pose.moving())


def test_the_lying_figure_4_pulls_the_thigh_toward_the_chest(library):
    pose = library["supine_figure_4_stretch"].pose
    start, end = (skeleton(f, pose.body_view) for f in (pose.start, pose.end))
    head = start["shoulder"]
    assert math.dist(end["far_knee"], head) < math.dist(start["far_knee"], head) - 5
    assert pose.end.angle("far_thigh") - pose.start.angle("far_thigh") >= 25  # toward the head


def test_the_seated_figure_4_lean_bows_the_head_and_shows_the_upright_torso(library):
    """Seen from the front, a lean forward shows as a bowed head (the crown's hair, the face
    low) and the upright torso as a shadow, in front of the chair and behind the body."""
    pose = library["seated_figure_4_stretch"].pose
    assert pose.end.short.get("head", 1) <= 0.6 and pose.start.short.get("head", 1) == 1
    shapes = scene(pose, "end").shapes
    torso = [i for i, s in enumerate(shapes) if s.tag == "ghost" and s.kind == "poly"]
    chair = [i for i, s in enumerate(shapes) if s.tag == "chair"]
    body = [i for i, s in enumerate(shapes) if s.tag == "body"]
    assert len(torso) == 1 and max(chair) < torso[0] < min(body)
    hair = [s for s in shapes if s.tag == "hair"]
    start_hair = [s for s in scene(pose, "start").shapes if s.tag == "hair"]
    assert len(hair[0].pts) > len(start_hair[0].pts) + 6  # more of the crown shows


def test_knee_to_opposite_shoulder_crosses_the_body(library):
    """From above: the knee ends across the body, nearer the other shoulder than its own, and
    the leg's shadow where it lay is drawn on the mat, not hidden under it."""
    pose = library["knee_to_opposite_shoulder"].pose
    p = skeleton(pose.end, pose.body_view)
    knee = p["near_knee"]
    assert math.dist(knee, p["far_shoulder"]) < math.dist(knee, p["near_shoulder"])
    start = skeleton(pose.start, pose.body_view)

    def side(point) -> float:  # + on one side of the body's middle line, - on the other
        (hx, hy), (sx, sy) = p["hip"], p["shoulder"]
        return (sx - hx) * (point[1] - hy) - (sy - hy) * (point[0] - hx)

    assert side(start["near_knee"]) * side(knee) < 0  # other side
    shapes = scene(pose, "end").shapes
    mats = [i for i, s in enumerate(shapes) if s.tag == "mat"]
    ghosts = [i for i, s in enumerate(shapes) if s.tag == "ghost"]
    assert ghosts and min(ghosts) > max(mats)


@pytest.mark.parametrize(
    "exercise_id",
    [
        "seated_sciatic_slider",
        "posterior_pelvic_tilt",
        "seated_figure_4_stretch",
        "femoral_tensioner",
    ],
)
def test_the_new_marks_are_mirrored_with_the_picture(library, exercise_id):
    """The gaze line, the arrow round the face, the gap and the torso's shadow all turn with
    the picture for the right side."""
    pose = library[exercise_id].pose
    for which in ("start", "end"):
        left, right = scene(pose, which), scene(pose, which, mirror=True)
        for a, b in zip(left.shapes, right.shapes, strict=True):
            mirrored = [c for x, y in a.pts for c in (-x, y)]
            assert [c for point in b.pts for c in point] == pytest.approx(mirrored)


def test_the_lying_leg_glide_shows_the_toes_pointing_with_an_arrow_round_the_ankle(library):
    """The foot's turn is the glide's cue: an arrow goes round the ankle, from where the toes
    pointed (pulled toward the face) to where they point at the end (away, up the leg)."""
    pose = library["supine_sciatic_slider"].pose
    (nod,) = [a for a in pose.arrows if a.nod]
    assert nod.at == "near_ankle"
    ankle = skeleton(pose.end, pose.body_view)["near_ankle"]
    arrows = [s for s in scene(pose, "end").shapes if s.tag == "arrow"]
    tip = min((s.pts[-1] for s in arrows), key=lambda p: math.dist(p, ankle))
    pointing = math.degrees(math.atan2(tip[1] - ankle[1], tip[0] - ankle[0]))
    assert abs(_wrap(pointing - pose.end.angle("near_foot"))) < 30
    assert _wrap(pose.end.angle("near_foot") - pose.start.angle("near_foot")) <= -45


def test_library_check_refuses_a_nod_round_a_knee(runner, copy):
    path = copy / "supine_sciatic_slider.yaml"
    _edit(path, "{at: near_ankle, nod: true}", "{at: near_knee, nod: true}")
    code, lines = _check(runner, copy)
    assert code == 1
    assert lines[:-1] == [
        f"{path}: pose.arrows[1]: an arrow with nod goes round the head or an ankle"
    ]


@pytest.mark.parametrize("which", ["start", "end"])
def test_heel_walking_rests_a_hand_on_a_kitchen_counter(library, which):
    """The counter is a worktop over cupboard doors, at hand height, and the near hand rests
    on it: not a low grey box beside a figure that does not touch it."""
    pose = library["heel_walking"].pose
    drawn = scene(pose, which)
    hand = skeleton(getattr(pose, which), pose.body_view)["near_hand"]
    counter = [s for s in drawn.shapes if s.tag == "wall"]
    worktop = max((s for s in counter if s.kind == "poly"), key=lambda s: max(y for _, y in s.pts))
    top = max(y for _, y in worktop.pts)
    xs = [x for x, _ in worktop.pts]
    assert min(xs) < hand[0] < max(xs)
    assert hand[1] - 2.3 == pytest.approx(top, abs=0.5)  # the hand's bottom on the worktop
    doors = [s for s in counter if s.kind == "poly" and s.fill == colors.white]
    knobs = [s for s in counter if s.kind == "circle"]
    assert len(doors) == 2 and len(knobs) == 2
    assert top - drawn.floor >= 40  # hip height, not a step


def test_heel_walking_points_an_arrow_up_from_the_lifted_toes(library):
    """A straight arrow up from the toes, long enough to read as an arrow (not all head)."""
    pose = library["heel_walking"].pose
    toe = skeleton(pose.end, pose.body_view)["near_toe"]
    arrows = [s for s in scene(pose, "end").shapes if s.tag == "arrow"]
    (up,) = [s for s in arrows if math.dist(s.pts[0], toe) < 8]
    (x0, y0), _, (x1, y1) = up.pts
    assert y1 - y0 >= 8 and abs(x1 - x0) < 1


@pytest.mark.parametrize("which", ["start", "end"])
def test_the_tied_band_loops_round_the_foot_and_is_knotted_to_the_table_leg(library, which):
    """The band is a closed loop round the front of the foot, with two strands to a knot on
    the table's leg: how it holds the foot and where it is tied are both drawn."""
    pose = library["banded_dorsiflexion"].pose
    drawn = scene(pose, which)
    p = skeleton(getattr(pose, which), pose.body_view)
    band = [s for s in drawn.shapes if s.tag == "band"]
    (loop,) = [s for s in band if s.kind == "line" and len(s.pts) > 8]
    assert loop.pts[0] == pytest.approx(loop.pts[-1])  # closed
    forefoot = [a + (b - a) * 0.7 for a, b in zip(p["near_ankle"], p["near_toe"], strict=True)]
    xs, ys = [x for x, _ in loop.pts], [y for _, y in loop.pts]
    assert min(xs) < forefoot[0] < max(xs) and min(ys) < forefoot[1] < max(ys)
    (knot,) = [s for s in band if s.kind == "circle"]
    leg = next(s for s in drawn.shapes if s.tag == "table" and s.kind == "line")
    assert knot.pts[0][0] == pytest.approx(leg.pts[0][0])
    strands = [s for s in band if s.kind == "line" and s.pts[0] == knot.pts[0]]
    ends = [s.pts[-1] for s in strands]
    assert len([e for e in ends if e in loop.pts]) == 2  # both strands reach the loop


def test_the_seated_ankle_glide_shows_the_working_foot_on_its_own(library):
    """The other foot is tucked back under the chair, so the foot that moves stands alone in
    front, heel on the floor, with a straight arrow up from its lifted toes."""
    pose = library["seated_ankle_nerve_glide"].pose
    for which in ("start", "end"):
        p = skeleton(getattr(pose, which), pose.body_view)
        assert max(p["far_toe"][0], p["far_ankle"][0]) < p["near_ankle"][0] - 12, which
    toe = skeleton(pose.end, pose.body_view)["near_toe"]
    arrows = [s for s in scene(pose, "end").shapes if s.tag == "arrow"]
    (up,) = [s for s in arrows if math.dist(s.pts[0], toe) < 8]
    assert up.pts[-1][1] - up.pts[0][1] >= 8


def test_the_standing_thigh_glide_starts_looking_at_the_floor_in_front(library):
    """Chin down at the start shows as a gaze to the floor ahead, clear of the chest and arms
    (not a line drawn down over them); at the end the face is turned up to the ceiling."""
    pose = library["standing_femoral_slider"].pose
    p = skeleton(pose.start, pose.body_view)
    (gaze,) = [s for s in scene(pose, "start").shapes if s.tag == "gaze"]
    assert gaze.pts[-1][0] - p["shoulder"][0] >= 10
    for a, b in (("shoulder", "near_elbow"), ("near_elbow", "near_hand")):  # clear of the arm
        assert _to_segment(gaze.pts[-1], p[a], p[b]) > 4, (a, b)
    assert _nod(pose.end) >= 70


def _to_segment(point, a, b) -> float:
    (px, py), (ax, ay), (bx, by) = point, a, b
    t = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)
    t = max(0.0, min(1.0, t))
    return math.dist(point, (ax + t * (bx - ax), ay + t * (by - ay)))


def test_knee_to_opposite_shoulder_is_seen_from_the_feet_and_moves_across(library):
    """The patient lies head up the page on a mat seen from the feet, the knee already bent up
    on its own side and held with both hands: the pull is a sideways move across the body,
    not a change that only the arrow tells."""
    pose = library["knee_to_opposite_shoulder"].pose
    assert pose.view == "above" and pose.start.trunk == pose.end.trunk == 90
    start, end = (skeleton(f, pose.body_view) for f in (pose.start, pose.end))
    (dx, dy) = (
        end["near_knee"][0] - start["near_knee"][0],
        end["near_knee"][1] - start["near_knee"][1],
    )
    assert abs(dx) >= 10 and abs(dx) > abs(dy)
    for p in (start, end):
        assert p["near_knee"][1] > p["hip"][1] + 5  # bent up toward the chest in both
        for hand in ("near_hand", "far_hand"):
            assert math.dist(p[hand], p["near_knee"]) < 4, hand


@pytest.mark.parametrize("which", ["start", "end"])
def test_the_lying_figure_4_is_seen_from_the_feet_with_the_shin_across(library, which):
    """From the side the crossed ankle hides behind the other knee; seen from the feet, on a
    mat with a pillow, the crossed shin lies across the body's middle line (the "4"), its
    knee dropped out to its own side."""
    pose = library["supine_figure_4_stretch"].pose
    assert pose.view == "above" and pose.props.pillow
    p = skeleton(getattr(pose, which), pose.body_view)
    middle = p["hip"][0]
    assert p["near_knee"][0] > middle + 8  # the knee out to its own side
    assert p["near_ankle"][0] < middle  # the ankle across, on the other leg
    dx = abs(p["near_ankle"][0] - p["near_knee"][0])
    dy = abs(p["near_ankle"][1] - p["near_knee"][1])
    assert dx > 2 * dy  # the shin lies across, not along the body


@pytest.mark.parametrize("exercise_id", ["femoral_tensioner", "side_lying_femoral_slider"])
def test_a_side_lying_head_turn_is_shown_again_enlarged(library, exercise_id):
    """Seen from above, the head is small: an inset shows it twice as big in both pictures,
    beside the body on the mat's free side (behind the back), inside the picture's box."""
    pose = library[exercise_id].pose
    for which in ("start", "end"):
        drawn = scene(pose, which)
        (inset,) = _insets(drawn)
        assert inset.times >= 2
        (sx, sy), (cx, cy) = inset.pts
        head = skeleton(getattr(pose, which), pose.body_view)["head"]
        assert math.dist((sx, sy), head) < inset.width - 5  # the whole head is in the window
        big = inset.width * inset.times
        x0, y0, x1, y1 = drawn.bounds()
        assert x0 <= cx - big and cx + big <= x1 and y0 <= cy - big and cy + big <= y1
        assert cx < sx - inset.width  # behind the back, not over the face's side


def test_the_foot_is_drawn_in_front_of_its_band_loop(library):
    """The loop goes round the foot behind it, so the foot (orange in the end picture) is
    never hidden under the band; the knot is drawn over the table leg."""
    pose = library["banded_dorsiflexion"].pose
    for which in ("start", "end"):
        shapes = scene(pose, which).shapes
        band = [i for i, s in enumerate(shapes) if s.tag == "band" and len(s.pts) > 8]
        body = [i for i, s in enumerate(shapes) if s.tag == "body"]
        table = [i for i, s in enumerate(shapes) if s.tag == "table"]
        (knot,) = [i for i, s in enumerate(shapes) if s.tag == "band" and s.kind == "circle"]
        assert band and max(band) < min(body)
        assert knot > max(table)


@pytest.mark.parametrize("exercise_id", ["side_steps", "band_side_steps"])
def test_side_steps_travel_sideways_along_the_floor(library, exercise_id):
    """A side step moves the whole body, not one leg lifted out: the hip ends a clear way to
    the side of where it started, and a long arrow runs sideways just above the floor."""
    from hepplan.render.drawing import _offset

    pose = library[exercise_id].pose
    dx, _ = _offset(pose)
    start = skeleton(pose.start, pose.body_view)["hip"][0] + dx
    end = skeleton(pose.end, pose.body_view)["hip"][0]
    assert end - start >= 5
    drawn = scene(pose, "end")
    floor_arrows = [s for s in drawn.shapes if s.tag == "arrow" and s.pts[0][1] < drawn.floor + 4]
    assert floor_arrows
    for arrow in floor_arrows:
        (x0, y0), _, (x1, y1) = arrow.pts
        assert x1 - x0 >= 15 and abs(y1 - y0) < 1


def test_knees_to_chest_draws_both_legs_coming_up(library):
    """Both legs are seen apart at the start, and both thighs are orange at the end."""
    pose = library["knees_to_chest"].pose
    start = skeleton(pose.start, pose.body_view)
    assert math.dist(start["near_knee"], start["far_knee"]) >= 2
    assert {"near_thigh", "far_thigh"} <= set(pose.moving())
    for leg in ("near", "far"):
        hip_flexion = _wrap(pose.end.angle(f"{leg}_thigh") - pose.end.trunk - 180)
        assert hip_flexion > 110, leg


def test_lying_face_down_has_no_arrow_pressing_down(library):
    """A rest position: the end picture's arrow shows the arms coming to the sides, and no
    arrow points down onto the body (that reads as "press down")."""
    pose = library["prone_lying"].pose
    arrows = [s for s in scene(pose, "end").shapes if s.tag == "arrow"]
    assert arrows
    for arrow in arrows:
        (x0, y0), _, (x1, y1) = arrow.pts
        assert y1 - y0 > -abs(x1 - x0) * 0.5  # never steeper down than sideways

"""Every exercise has a picture, drawn from its pose data, in one style."""

from __future__ import annotations

import io

import pypdf
import pytest

from hepplan.clinic import Clinic
from hepplan.drawing import scene
from hepplan.pose import Frame, Pose, skeleton
from hepplan.render import render_pictures


def test_the_default_frame_stands_upright():
    points = skeleton(Frame())
    assert points["head"][1] > points["shoulder"][1] > points["hip"][1] > points["near_knee"][1]
    assert points["near_ankle"][0] == pytest.approx(0.0, abs=1e-9)


def test_far_limbs_copy_near_ones_unless_given():
    frame = Frame(near_thigh=300)
    assert frame.angle("far_thigh") == 300
    assert Frame(near_thigh=300, far_thigh=250).angle("far_thigh") == 250
    assert Frame(trunk=180).angle("head") == 180


@pytest.mark.parametrize("frame", ["start", "end"])
def test_every_pose_rests_on_the_floor(library, frame):
    for exercise in library:
        drawn = scene(exercise.pose, frame)
        _, bottom, _, top = drawn.bounds()
        assert bottom >= drawn.floor - 1e-6, exercise.id
        assert top - drawn.floor < 120, exercise.id


def test_start_and_end_differ(library):
    for exercise in library:
        assert exercise.pose.start != exercise.pose.end, exercise.id


def test_the_picture_sheet_draws_every_exercise(library):
    data = render_pictures(list(library), Clinic())
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for exercise in library:
        assert f"({exercise.id})" in text.replace("\n", " ")
    assert text.count("Start") == len(library)
    assert text.count("End") == len(library)


def test_a_pose_with_a_bad_key_is_refused():
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Pose.model_validate({"start": {"trunk": 90, "tail": 10}, "end": {}})

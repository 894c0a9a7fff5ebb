"""Poses: a small, data-only format for an exercise's start and end pictures.

A pose gives each body segment an absolute angle in degrees in the plane of the picture: 0
points right on the page, 90 up, 180 left, 270 down. Bone lengths are fixed, so every figure has
the same proportions; ``short`` shortens a segment that points towards the viewer. The figure is
placed by its lowest point on the floor; props are drawn around it.

``view`` says where the viewer stands:

- ``side``: the movement is forwards and back (a bridge, a squat). Near and far limbs join the
  body at the same point; the near limbs are drawn in front.
- ``front``: the viewer faces the front of the body, so sideways moves show (side steps, hip
  abduction, a clamshell seen from in front of a patient lying on their side). The limbs join
  the ends of a pelvis and shoulders that are as wide as the body.
- ``back``: as ``front``, seen from behind (the patient holds a chair that stands beyond).
- ``above``: seen from above the feet, with the mat drawn under the whole body in perspective.
  The patient lies head up the mat (``trunk: 90``): a body upright on the page, on a mat, cannot
  be read as one seen from the side. Lying on the back it is built as in ``front`` (a knee pulled
  across the body, a crossed shin); with ``lying: side`` as in ``side``, the face in profile on a
  pillow (a thigh moving back while lying on the side).

In the front, back and above views a thigh that is shortened (it comes at the viewer: a knee
pulled up toward the ceiling, a lap seen from in front) is drawn in front of the torso.

Every picture is drawn for the patient's left side: "near" limbs are the left ones (the side
that works). The handout mirrors the drawing when the patient's side is the right.

```yaml
pose:
  view: side
  props: {mat: true}
  start: {trunk: 180, near_thigh: 45, near_shin: 315}      # lying on the back, knees bent
  end:   {trunk: 160, near_thigh: 20, near_shin: 300}      # hips lifted (a bridge)
  arrows: [{at: hip}]                                      # from where the hip was
```

``far_*`` segments copy their ``near_*`` twin unless given (in the front and above views, as
its mirror image across the trunk); ``head`` copies ``trunk``. ``face`` is the way the face
looks in the side view (default: forwards, ``head`` - 90). ``spine`` bends the back: positive
arches it (the belly side long), negative rounds it. A frame's own ``props`` replace the pose's.

The end picture colours the segments that move (``move``, default: those that turn by 10
degrees or more), shows where they were as a pale shadow, and draws ``arrows``: by default one
along the path of the moving part's tip (an arc about the joint it turns on). The start frame
is placed on the end frame by ``anchor``, the point that stays put (default: the hip when its
height stays, else a foot on the floor); ``ghost: false`` leaves the shadow out.

A movement too small to see at a glance (a heel lifting) gets ``zoom``: both pictures show
the part again, enlarged in a round inset beside it. A hold gets ``hold``: a stopwatch in the
end picture says "keep still here". A part that works without moving (the belly in a brace)
gets ``mark``: an orange patch on it in the end picture; with a mark, a trunk named in ``move``
stays blue, so only the patch is orange. ``gap`` fills the space between an arched back and the
floor in yellow (a pelvic tilt presses it flat). ``gaze`` draws a dashed line from the eye the
way the face looks, and an arrow with ``nod`` goes round the face: chin to chest or look up.

```yaml
  zoom: {at: near_toe, shift: [-4, 3], off: [24, 20]}   # the foot, 2.2 times as big
  hold: {at: hip, off: [16, 20]}              # a stopwatch beside the belly
  mark: {at: hip, off: [0, 10], size: 5}      # the belly, as wide as the torso, orange
```
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Angle = Annotated[float, Field(ge=-360, le=360)]
Offset = Annotated[float, Field(ge=-80, le=80)]

#: Segment lengths (drawing units), from the root at the hip.
BONES = {
    "trunk": 30.0,
    "head": 9.0,  # shoulder to the head's centre
    "upper_arm": 16.0,
    "forearm": 15.0,
    "thigh": 21.0,
    "shin": 20.0,
    "foot": 8.0,
}
HEAD_RADIUS = 5.0
LINE_HALF_WIDTH = 3.0  # the thickest limb's half width; the body rests on the floor
HIP_HALF_WIDTH = 5.5  # front and above views: where the legs join the pelvis
SHOULDER_HALF_WIDTH = 7.5

View = Literal["side", "front", "back", "above"]
Point = Literal[
    "hip",
    "shoulder",
    "head",
    "near_elbow",
    "near_hand",
    "far_elbow",
    "far_hand",
    "near_knee",
    "near_ankle",
    "near_toe",
    "far_knee",
    "far_ankle",
    "far_toe",
]
POINTS: tuple[str, ...] = Point.__args__  # type: ignore[attr-defined]
Segment = Literal[
    "trunk",
    "head",
    "near_upper_arm",
    "near_forearm",
    "far_upper_arm",
    "far_forearm",
    "near_thigh",
    "near_shin",
    "near_foot",
    "far_thigh",
    "far_shin",
    "far_foot",
]
SEGMENTS: tuple[str, ...] = Segment.__args__  # type: ignore[attr-defined]
#: Each segment as (from, to) joints.
SEGMENT_ENDS = {
    "trunk": ("hip", "shoulder"),
    "head": ("shoulder", "head"),
    **{
        f"{side}_{bone}": (a if a in ("hip", "shoulder") else f"{side}_{a}", f"{side}_{b}")
        for side in ("near", "far")
        for bone, a, b in (
            ("upper_arm", "shoulder", "elbow"),
            ("forearm", "elbow", "hand"),
            ("thigh", "hip", "knee"),
            ("shin", "knee", "ankle"),
            ("foot", "ankle", "toe"),
        )
    },
}


class Props(BaseModel):
    """What is drawn around the figure. Points name where a prop touches the body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mat: bool = False
    chair: Literal["seat", "support"] | None = None  # sit on it, or hold its back
    # a wall in front of the figure, behind it, or beside it (a panel in the background); a
    # kitchen counter beside it, its worktop under the near hand
    wall: Literal["front", "behind", "beside", "counter"] | None = None
    step: Literal["near_foot", "far_foot", "both_feet"] | None = None
    band: tuple[Point | Literal["table"], Point] | None = None  # a loop between two places
    ball: Point | None = None  # a massage ball at this point
    roller: Point | None = None  # a foam roller under this point
    bike: bool = False  # an exercise bike: seat under the hip, pedals under the feet
    pillow: bool = False  # under the head


class Frame(BaseModel):
    """One picture: an angle per segment (far_* default to near_*, head to trunk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk: Angle = 90
    head: Angle | None = None
    face: Angle | None = None
    spine: Annotated[float, Field(ge=-40, le=40)] = 0
    near_upper_arm: Angle = 270
    near_forearm: Angle = 270
    far_upper_arm: Angle | None = None
    far_forearm: Angle | None = None
    near_thigh: Angle = 270
    near_shin: Angle = 270
    near_foot: Angle = 0
    far_thigh: Angle | None = None
    far_shin: Angle | None = None
    far_foot: Angle | None = None
    short: dict[Segment, Annotated[float, Field(ge=0.1, le=1)]] = {}
    props: Props | None = None

    def angle(self, name: str) -> float:
        value = getattr(self, name)
        if value is None:
            value = self.trunk if name == "head" else getattr(self, name.replace("far_", "near_"))
        return float(value)


class Arrow(BaseModel):
    """An arrow in the end picture. Without ``by``: from where ``at`` was at the start to where
    it is at the end. With ``by``: a straight (or, with ``bend``, curved) arrow of that length,
    starting ``off`` away from ``at``. With ``nod`` (at the head): an arc round the face, from
    where the face pointed at the start to where it points at the end (chin down, or look up);
    at an ankle, round the ankle from the foot's start angle to its end angle (toes pulled up,
    or pointed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Point
    by: tuple[Offset, Offset] | None = None
    off: tuple[Offset, Offset] = (0.0, 0.0)
    bend: Annotated[float, Field(ge=-1, le=1)] = 0.0
    nod: bool = False  # round the face or the ankle, from the way it pointed to the way it points

    @model_validator(mode="after")
    def _nods_at_a_head_or_an_ankle(self) -> Arrow:
        if self.nod and self.at not in ("head", "near_ankle", "far_ankle"):
            raise ValueError("an arrow with nod goes round the head or an ankle")
        return self


class Zoom(BaseModel):
    """An enlarged round inset of a small moving part (a foot), drawn in both pictures: the
    circle of ``radius`` about ``at`` (moved by ``shift``) is shown ``times`` as big, centred
    ``off`` away from it. Put ``at`` on a point that stays put (a toe on the floor), so the
    inset shows the same place in both pictures and the part moving in it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Point
    off: tuple[Offset, Offset]
    shift: tuple[Offset, Offset] = (0.0, 0.0)
    radius: Annotated[float, Field(ge=4, le=14)] = 9.0
    times: Annotated[float, Field(ge=1.5, le=4)] = 2.2


class Hold(BaseModel):
    """A stopwatch in the end picture, ``off`` away from ``at``: hold this position still."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Point
    off: tuple[Offset, Offset] = (0.0, 0.0)


class Mark(BaseModel):
    """An orange patch on the body in the end picture, ``off`` away from ``at``: the part that
    works without moving (a belly tightening)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Point
    off: tuple[Offset, Offset] = (0.0, 0.0)
    size: Annotated[float, Field(ge=2, le=10)] = 4.0


class Pose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    view: View = "side"
    lying: Literal["back", "side"] = "back"  # for the view from above
    props: Props = Props()
    start: Frame
    end: Frame
    move: Annotated[tuple[Segment, ...], Field(max_length=12)] | None = None
    arrows: Annotated[tuple[Arrow, ...], Field(max_length=6)] | None = None
    anchor: Point | None = None  # the point that stays put from start to end
    ghost: bool = True  # show the start position of the moving part in the end picture
    zoom: Zoom | None = None
    hold: Hold | None = None
    mark: Mark | None = None
    gaze: bool = False  # side view: a dashed line from the eye, the way the face looks
    gap: bool = False  # side view, lying: the space under an arched back, filled in yellow

    @property
    def body_view(self) -> str:
        """How the body is built: ``side`` (limbs from one point) or ``front`` (from the ends
        of the pelvis and shoulders). From above, a patient lying on the side shows a side."""
        if self.view in ("front", "back"):
            return self.view
        return "front" if self.view == "above" and self.lying == "back" else "side"

    def frame_props(self, frame: Frame) -> Props:
        return frame.props if frame.props is not None else self.props

    def moving(self) -> tuple[str, ...]:
        """The segments coloured in the end picture."""
        if self.move is not None:
            return self.move
        return tuple(s for s in SEGMENTS if _turn(self, s) >= 10 or _shortened(self, s))


def _turn(pose: Pose, segment: str) -> float:
    a = angle(pose.start, segment, pose.body_view)
    b = angle(pose.end, segment, pose.body_view)
    return abs((a - b + 180) % 360 - 180)


def _shortened(pose: Pose, segment: str) -> bool:
    return abs(pose.start.short.get(segment, 1) - pose.end.short.get(segment, 1)) > 0.15


def angle(frame: Frame, name: str, view: str) -> float:
    """A segment's angle; in the front views an unset far limb mirrors the near one."""
    if view != "side" and name.startswith("far_") and getattr(frame, name) is None:
        return 2 * frame.trunk - frame.angle(name.replace("far_", "near_"))
    return frame.angle(name)


def face_angle(frame: Frame) -> float:
    return float(frame.face) if frame.face is not None else frame.angle("head") - 90


def _walk(origin: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    rad = math.radians(angle)
    return origin[0] + length * math.cos(rad), origin[1] + length * math.sin(rad)


def _length(frame: Frame, segment: str) -> float:
    bone = segment.removeprefix("near_").removeprefix("far_")
    return BONES[bone] * frame.short.get(segment, 1.0)


def skeleton(frame: Frame, view: str = "side") -> dict[str, tuple[float, float]]:
    """Joint positions for a frame, with the hip (the middle of the pelvis) at the origin.

    In the front views the limbs start from the ends of the pelvis and shoulders:
    ``near_hip``, ``far_hip``, ``near_shoulder`` and ``far_shoulder`` are added."""
    p: dict[str, tuple[float, float]] = {"hip": (0.0, 0.0)}
    p["shoulder"] = _walk(p["hip"], frame.trunk, _length(frame, "trunk"))
    p["head"] = _walk(p["shoulder"], frame.angle("head"), _length(frame, "head"))
    flip = -1 if view == "back" else 1  # seen from behind, the left side is on the left
    for side, sign in (("near", -flip), ("far", flip)):
        hip, shoulder = p["hip"], p["shoulder"]
        if view != "side":
            across = frame.trunk + 90 * sign
            hip = p[f"{side}_hip"] = _walk(hip, across, HIP_HALF_WIDTH)
            shoulder = p[f"{side}_shoulder"] = _walk(shoulder, across, SHOULDER_HALF_WIDTH)
        origin = {"upper_arm": shoulder, "thigh": hip}
        for bone, previous, end in (
            ("upper_arm", None, "elbow"),
            ("forearm", "elbow", "hand"),
            ("thigh", None, "knee"),
            ("shin", "knee", "ankle"),
            ("foot", "ankle", "toe"),
        ):
            root = origin[bone] if previous is None else p[f"{side}_{previous}"]
            name = f"{side}_{bone}"
            p[f"{side}_{end}"] = _walk(root, angle(frame, name, view), _length(frame, name))
    return p


def lowest(points: dict[str, tuple[float, float]]) -> float:
    """The lowest y the body reaches (the head counts with its radius)."""
    ys = [y for name, (_, y) in points.items() if name != "head"]
    ys.append(points["head"][1] - HEAD_RADIUS)
    return min(ys) - LINE_HALF_WIDTH

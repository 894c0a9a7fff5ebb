"""Poses: a small, data-only format for an exercise's start and end pictures.

A pose gives each body segment an absolute angle in degrees, seen from the side: 0 points the
way the patient faces (right on the page), 90 points up, 180 left, 270 down. Bone lengths are
fixed, so every figure has the same proportions. The figure is placed by its lowest point on the
floor; props (mat, chair, wall, step, band, ball, roller) are drawn around it.

```yaml
pose:
  props: {mat: true}
  start: {trunk: 180, near_thigh: 45, near_shin: 315}      # lying on the back, knees bent
  end:   {trunk: 160, near_thigh: 20, near_shin: 300}      # hips lifted (a bridge)
```

``far_*`` segments copy their ``near_*`` twin unless given; ``head`` copies ``trunk``. The far
limbs are drawn in a lighter tone behind the near ones.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Angle = Annotated[float, Field(ge=-360, le=360)]

#: Segment lengths (drawing units), from the root at the hip.
BONES = {
    "trunk": 30.0,
    "head": 9.0,  # shoulder to the head's centre
    "upper_arm": 14.0,
    "forearm": 13.0,
    "thigh": 21.0,
    "shin": 20.0,
    "foot": 7.0,
}
HEAD_RADIUS = 5.0
LINE_HALF_WIDTH = 1.6  # limbs are drawn this thick on each side; they rest on the floor

POINTS = (
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
)
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


class Frame(BaseModel):
    """One picture: an angle per segment (far_* default to near_*, head to trunk)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    trunk: Angle = 90
    head: Angle | None = None
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

    def angle(self, name: str) -> float:
        value = getattr(self, name)
        if value is None:
            value = self.trunk if name == "head" else getattr(self, name.replace("far_", "near_"))
        return float(value)


class Props(BaseModel):
    """What is drawn around the figure. Points name where a prop touches the body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mat: bool = False
    chair: Literal["seat", "support"] | None = None  # sit on it, or hold its back
    wall: Literal["front", "behind"] | None = None  # beside the figure, by where it faces
    step: Literal["near_foot", "far_foot", "both_feet"] | None = None
    band: tuple[Point, Point] | None = None
    ball: Point | None = None  # a massage ball at this point
    roller: Point | None = None  # a foam roller under this point


class Pose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    props: Props = Props()
    start: Frame
    end: Frame


def _walk(origin: tuple[float, float], angle: float, length: float) -> tuple[float, float]:
    rad = math.radians(angle)
    return origin[0] + length * math.cos(rad), origin[1] + length * math.sin(rad)


def skeleton(frame: Frame) -> dict[str, tuple[float, float]]:
    """Joint positions for a frame, with the hip at the origin."""
    p: dict[str, tuple[float, float]] = {"hip": (0.0, 0.0)}
    p["shoulder"] = _walk(p["hip"], frame.angle("trunk"), BONES["trunk"])
    p["head"] = _walk(p["shoulder"], frame.angle("head"), BONES["head"])
    for side in ("near", "far"):
        p[f"{side}_elbow"] = _walk(
            p["shoulder"], frame.angle(f"{side}_upper_arm"), BONES["upper_arm"]
        )
        p[f"{side}_hand"] = _walk(
            p[f"{side}_elbow"], frame.angle(f"{side}_forearm"), BONES["forearm"]
        )
        p[f"{side}_knee"] = _walk(p["hip"], frame.angle(f"{side}_thigh"), BONES["thigh"])
        p[f"{side}_ankle"] = _walk(p[f"{side}_knee"], frame.angle(f"{side}_shin"), BONES["shin"])
        p[f"{side}_toe"] = _walk(p[f"{side}_ankle"], frame.angle(f"{side}_foot"), BONES["foot"])
    return p


def lowest(points: dict[str, tuple[float, float]]) -> float:
    """The lowest y the body reaches (the head counts with its radius)."""
    ys = [y for name, (_, y) in points.items() if name != "head"]
    ys.append(points["head"][1] - HEAD_RADIUS)
    return min(ys) - LINE_HALF_WIDTH

"""Line drawings of poses with reportlab graphics: start and end side by side, one style for all."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.platypus import Flowable

from .pose import HEAD_RADIUS, Frame, Pose, Props, lowest, skeleton

NEAR = colors.HexColor("#1A1A1A")
FAR = colors.HexColor("#9A9A9A")
PROP = colors.HexColor("#6B7B8C")
PROP_FILL = colors.HexColor("#E6EBF0")
BAND = colors.HexColor("#D2691E")
LABEL = colors.HexColor("#555555")

LIMB_WIDTH = 3.2  # in drawing units, before scaling
CHAIR_SEAT, CHAIR_BACK, CHAIR_DEPTH = 20.0, 40.0, 18.0
STEP_HEIGHT, STEP_WIDTH = 8.0, 16.0


@dataclass
class _Scene:
    """A frame's shapes in body units, with its bounds, before scaling."""

    points: dict[str, tuple[float, float]]
    lines: list[tuple[tuple[float, float], tuple[float, float], object, float]] = field(
        default_factory=list
    )
    rects: list[tuple[float, float, float, float]] = field(default_factory=list)
    circles: list[tuple[float, float, float, object]] = field(default_factory=list)
    floor: float = 0.0

    def bounds(self) -> tuple[float, float, float, float]:
        xs, ys = [], []
        for (x1, y1), (x2, y2), _, _ in self.lines:
            xs += [x1, x2]
            ys += [y1, y2]
        for x, y, w, h in self.rects:
            xs += [x, x + w]
            ys += [y, y + h]
        for x, y, r, _ in self.circles:
            xs += [x - r, x + r]
            ys += [y - r, y + r]
        return min(xs), min(ys), max(xs), max(ys)


def _scene(frame: Frame, props: Props) -> _Scene:
    p = skeleton(frame)
    floor = lowest(p)
    scene = _Scene(points=p)

    if props.step:
        feet = ["near", "far"] if props.step == "both_feet" else [props.step.split("_")[0]]
        top = min(min(p[f"{f}_ankle"][1], p[f"{f}_toe"][1]) for f in feet)
        xs = [x for f in feet for x in (p[f"{f}_ankle"][0], p[f"{f}_toe"][0])]
        left = min(xs) - 4
        width = max(STEP_WIDTH, max(xs) - min(xs) + 8)
        scene.rects.append((left, top - STEP_HEIGHT, width, STEP_HEIGHT))
        floor = min(floor, top - STEP_HEIGHT)
    if props.roller:
        x, y = p[props.roller]
        scene.circles.append((x, y - 5.5, 5.0, PROP_FILL))
        floor = min(floor, y - 10.5)
    if props.chair == "seat":
        hx, hy = p["hip"]
        thigh = frame.angle("near_thigh") % 360
        sitting = thigh <= 50 or thigh >= 310 or 130 <= thigh <= 230
        # sitting: the seat is under the hip; standing up: the chair stays behind, at its height
        seat = hy - 3 if sitting else floor + CHAIR_SEAT - 1.4
        floor = min(floor, seat - CHAIR_SEAT)
        back = hx - 9 if sitting else hx - 9 - CHAIR_DEPTH * 0.6
        scene.lines += [
            ((back, seat), (back + CHAIR_DEPTH, seat), PROP, 2.4),
            ((back, seat), (back, seat + CHAIR_BACK - CHAIR_SEAT), PROP, 2.4),
            ((back, seat), (back, floor), PROP, 1.8),
            ((back + CHAIR_DEPTH, seat), (back + CHAIR_DEPTH, floor), PROP, 1.8),
        ]

    body_xs = [x for x, _ in p.values()]
    if props.chair == "support":
        hx, hy = p["near_hand"]
        x = hx + 1.5
        scene.lines += [
            ((x, hy), (x, floor), PROP, 2.4),
            ((x, floor + CHAIR_SEAT), (x + CHAIR_DEPTH, floor + CHAIR_SEAT), PROP, 2.4),
            ((x + CHAIR_DEPTH, floor + CHAIR_SEAT), (x + CHAIR_DEPTH, floor), PROP, 1.8),
        ]
    if props.wall:
        x = max(body_xs) + 3 if props.wall == "front" else min(body_xs) - 3
        if props.ball:
            bx = p[props.ball][0]
            x = bx - 6 if props.wall == "behind" else bx + 6
        scene.lines.append(((x, floor), (x, floor + 62), PROP, 2.6))
    if props.ball:
        x, y = p[props.ball]
        if props.wall == "behind":
            scene.circles.append((x - 3, y, 3.0, BAND))
        elif props.wall == "front":
            scene.circles.append((x + 3, y, 3.0, BAND))
        else:
            scene.circles.append((x, y - 3, 3.0, BAND))
    if props.mat:
        left, right = min(body_xs) - 6, max(body_xs) + 6
        scene.rects.append((left, floor - 1.5, right - left, 1.5))
        floor -= 1.5

    # body: far limbs first, in a lighter tone, then trunk and near limbs
    for side, colour in (("far", FAR), ("near", NEAR)):
        chains = [
            ("shoulder", f"{side}_elbow", f"{side}_hand"),
            ("hip", f"{side}_knee", f"{side}_ankle", f"{side}_toe"),
        ]
        if side == "near":
            scene.lines.append((p["hip"], p["shoulder"], NEAR, LIMB_WIDTH + 1.2))
        for chain in chains:
            for a, b in itertools.pairwise(chain):
                scene.lines.append((p[a], p[b], colour, LIMB_WIDTH))
    neck_end = _towards(p["shoulder"], p["head"], HEAD_RADIUS)
    scene.lines.append((p["shoulder"], neck_end, NEAR, LIMB_WIDTH))
    scene.circles.append((*p["head"], HEAD_RADIUS, None))
    if props.band:
        a, b = props.band
        scene.lines.append((p[a], p[b], BAND, 1.6))

    scene.floor = floor
    return scene


def _towards(a, b, stop_short):
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy) or 1.0
    keep = max(0.0, length - stop_short) / length
    return a[0] + dx * keep, a[1] + dy * keep


class PoseDrawing(Flowable):
    """Start and end frames side by side, drawn straight onto the canvas (no graphics tree:
    a handout holds a dozen of these, and direct canvas calls cost a fraction)."""

    def __init__(
        self,
        pose: Pose,
        width: float,
        height: float,
        font: str,
        labels: tuple[str, str] = ("Start", "End"),
    ):
        super().__init__()
        self.pose, self.width, self.height = pose, width, height
        self.font, self.labels = font, labels

    def wrap(self, availWidth, availHeight):
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        width, height = self.width, self.height
        label_size = max(7.0, height * 0.075)
        gap = width * 0.08
        frame_w = (width - gap) / 2
        frame_h = height - label_size * 1.8
        scenes = [_scene(self.pose.start, self.pose.props), _scene(self.pose.end, self.pose.props)]
        boxes = [scene.bounds() for scene in scenes]
        span_w = max(b[2] - b[0] for b in boxes) + 6
        span_h = max(b[3] - s.floor for b, s in zip(boxes, scenes, strict=False)) + 4
        scale = min(frame_w / span_w, frame_h / span_h)
        canvas.saveState()
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        for index, (scene, box) in enumerate(zip(scenes, boxes, strict=False)):
            left = index * (frame_w + gap)
            content_w = (box[2] - box[0]) * scale
            dx = -box[0] + (frame_w - content_w) / 2 / scale
            dy = -scene.floor + label_size * 1.8 / scale
            _draw_scene(canvas, scene, scale, left + dx * scale, dy * scale, left, frame_w)
            canvas.setFillColor(LABEL)
            canvas.setFont(self.font, label_size)
            canvas.drawCentredString(left + frame_w / 2, label_size * 0.4, self.labels[index])
        x, y = frame_w + gap / 2, height / 2
        canvas.setStrokeColor(LABEL)
        canvas.setLineWidth(1.5)
        canvas.line(x - gap * 0.3, y, x + gap * 0.3, y)
        canvas.line(x + gap * 0.1, y + gap * 0.18, x + gap * 0.3, y)
        canvas.line(x + gap * 0.3, y, x + gap * 0.1, y - gap * 0.18)
        canvas.restoreState()


def _draw_scene(
    canvas, scene: _Scene, scale: float, ox: float, oy: float, left: float, frame_w: float
) -> None:
    """Emit one frame: the floor, props, then the body, in page units."""

    def at(x: float, y: float) -> tuple[float, float]:
        return ox + x * scale, oy + y * scale

    floor_y = at(0, scene.floor)[1]
    canvas.setStrokeColor(PROP)
    canvas.setLineWidth(1.2)
    canvas.line(left, floor_y, left + frame_w, floor_y)
    canvas.setFillColor(PROP_FILL)
    canvas.setLineWidth(1)
    for x, y, w, h in scene.rects:
        px, py = at(x, y)
        canvas.rect(px, py, w * scale, h * scale, stroke=1, fill=1)
    for (x1, y1), (x2, y2), colour, width in scene.lines:
        canvas.setStrokeColor(colour)
        canvas.setLineWidth(width * scale)
        canvas.line(*at(x1, y1), *at(x2, y2))
    for x, y, r, fill in scene.circles:
        px, py = at(x, y)
        if fill is None:  # the head
            canvas.setStrokeColor(NEAR)
            canvas.setFillColor(colors.white)
            canvas.setLineWidth(LIMB_WIDTH * scale * 0.8)
        else:
            canvas.setStrokeColor(PROP)
            canvas.setFillColor(fill)
            canvas.setLineWidth(0.8)
        canvas.circle(px, py, r * scale, stroke=1, fill=1)


def draw_pose(
    pose: Pose,
    width: float,
    height: float,
    *,
    font: str = "Helvetica",
    labels: tuple[str, str] = ("Start", "End"),
) -> PoseDrawing:
    """Start and end frames side by side, as a ``width`` × ``height`` flowable (points)."""
    return PoseDrawing(pose, width, height, font, labels)

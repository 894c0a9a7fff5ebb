"""Line drawings of poses with reportlab graphics: start and end side by side, one style for all."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, PolyLine, Rect, String
from reportlab.lib import colors

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
        default_factory=list)
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
        seat = hy - 3
        floor = min(floor, seat - CHAIR_SEAT)
        back = hx - 9
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
            for a, b in zip(chain, chain[1:]):
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


def _group(scene: _Scene, scale: float, dx: float, dy: float, floor_width: float) -> Group:
    group = Group()

    def tx(x: float) -> float:
        return (x + dx) * scale

    def ty(y: float) -> float:
        return (y + dy) * scale

    floor_y = ty(scene.floor)
    group.add(Line(0, floor_y, floor_width, floor_y,
                   strokeColor=PROP, strokeWidth=1.2))
    for x, y, w, h in scene.rects:
        group.add(Rect(tx(x), ty(y), w * scale, h * scale, fillColor=PROP_FILL,
                       strokeColor=PROP, strokeWidth=1))
    for (x1, y1), (x2, y2), colour, width in scene.lines:
        line = Line(tx(x1), ty(y1), tx(x2), ty(y2), strokeColor=colour,
                    strokeWidth=width * scale, strokeLineCap=1, strokeLineJoin=1)
        group.add(line)
    for x, y, r, fill in scene.circles:
        if fill is None:  # the head
            group.add(Circle(tx(x), ty(y), r * scale, fillColor=colors.white, strokeColor=NEAR,
                             strokeWidth=LIMB_WIDTH * scale * 0.8))
        else:
            group.add(Circle(tx(x), ty(y), r * scale, fillColor=fill, strokeColor=PROP,
                             strokeWidth=0.8))
    return group


def draw_pose(pose: Pose, width: float, height: float, *, font: str = "Helvetica",
              labels: tuple[str, str] = ("Start", "End")) -> Drawing:
    """Start and end frames side by side in a ``width`` × ``height`` drawing (points)."""
    label_size = max(7.0, height * 0.075)
    gap = width * 0.08
    frame_w = (width - gap) / 2
    frame_h = height - label_size * 1.8
    scenes = [_scene(pose.start, pose.props), _scene(pose.end, pose.props)]
    boxes = [scene.bounds() for scene in scenes]
    span_w = max(b[2] - b[0] for b in boxes) + 6
    span_h = max(b[3] - s.floor for b, s in zip(boxes, scenes)) + 4
    scale = min(frame_w / span_w, frame_h / span_h)
    drawing = Drawing(width, height)
    drawing.initialFontName = font  # renderers otherwise start every drawing in Helvetica
    for index, (scene, box) in enumerate(zip(scenes, boxes)):
        left = index * (frame_w + gap)
        content_w = (box[2] - box[0]) * scale
        dx = -box[0] + (frame_w - content_w) / 2 / scale
        dy = -scene.floor + label_size * 1.8 / scale
        group = _group(scene, scale, dx, dy, frame_w)
        group.translate(left, 0)
        drawing.add(group)
        drawing.add(String(left + frame_w / 2, label_size * 0.4, labels[index], fontName=font,
                           fontSize=label_size, fillColor=LABEL, textAnchor="middle"))
    arrow_x = frame_w + gap / 2
    arrow_y = height / 2
    drawing.add(PolyLine([arrow_x - gap * 0.3, arrow_y, arrow_x + gap * 0.3, arrow_y],
                         strokeColor=LABEL, strokeWidth=1.5))
    drawing.add(PolyLine([arrow_x + gap * 0.1, arrow_y + gap * 0.18, arrow_x + gap * 0.3, arrow_y,
                          arrow_x + gap * 0.1, arrow_y - gap * 0.18],
                         strokeColor=LABEL, strokeWidth=1.5))
    return drawing

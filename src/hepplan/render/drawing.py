"""Pictures of poses with reportlab: start and end side by side, one style for all.

A frame becomes a list of shapes in body units (see :mod:`hepplan.pose`): props, then the body
as filled limbs with outlines and round joints, far limbs behind and paler, a torso, a head with
hair and a face, hands and feet. The end frame colours the moving part, shows its start as a
pale shadow and adds arrows. Both frames share one scale and fill their half of the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.platypus import Flowable

from hepplan.domain.pose import (
    BONES,
    HEAD_RADIUS,
    SEGMENT_ENDS,
    Arrow,
    Frame,
    Pose,
    Props,
    face_angle,
    skeleton,
)

OUTLINE = colors.HexColor("#22303C")
NEAR_FILL = colors.HexColor("#6F9FD0")
FAR_FILL = colors.HexColor("#3F6C9C")  # solid and darker: never to be read as the pale shadow
FAR_OUTLINE = colors.HexColor("#1B2630")
SKIN = colors.HexColor("#F2D4B7")
HAIR = colors.HexColor("#4A3B32")
MOVE_FILL = colors.HexColor("#F28C28")
MOVE_FAR = colors.HexColor("#C8630E")  # a moving far limb: the same orange, darker
GHOST = colors.HexColor("#F8D9BA")
ARROW = colors.HexColor("#C4410C")
PROP = colors.HexColor("#56636F")
PROP_FILL = colors.HexColor("#D9DEE3")
WOOD = colors.HexColor("#C9A27E")
MAT = colors.HexColor("#8CC7B5")
MAT_SHEET = colors.HexColor("#D3ECE4")  # a mat seen from above, under the whole body
BAND = colors.HexColor("#1E9E4A")
BALL = colors.HexColor("#8E44AD")
ROLLER = colors.HexColor("#6FB7E3")
BIKE = colors.HexColor("#4F5B66")
GAP = colors.HexColor("#FFD84D")  # the space under an arched back
LABEL = colors.HexColor("#555555")

#: Half widths of the body's parts, in body units.
THICK = {"upper_arm": 2.2, "forearm": 1.9, "thigh": 3.3, "shin": 2.5, "foot": 1.7, "head": 1.6}
TRUNK_HALF = 5.0
FAR_THINNER = 0.82  # side view: the far limbs' width
HAND_RADIUS = 2.3
LINE = 0.8  # outline width
STOPWATCH = 6.0  # the radius of the "hold" stopwatch
GAZE = 13.0  # the length of the dashed line of the eyes' gaze
INSET_RIM = 0.8  # the ring round an enlarged inset
ARROW_HALF = 1.5  # an arrow's half width: bold enough to see on a small card
NOD_HALF = 2.2  # a nod round the head: bolder still, beside the head
CHAIR_SEAT, CHAIR_BACK, CHAIR_DEPTH = 20.0, 40.0, 18.0
STEP_HEIGHT, STEP_WIDTH = 10.0, 16.0
BALL_RADIUS = 4.6

XY = tuple[float, float]


@dataclass
class Shape:
    """One thing to draw. ``kind``: line (a round-capped stroke of ``width``), poly, circle
    (radius ``width``), curve (quadratic through three points), arrow (a curve with a head) or
    inset (the circle of radius ``width`` about ``pts[0]`` drawn ``times`` as big about
    ``pts[1]``: the shapes before it, enlarged)."""

    kind: str
    pts: list[XY]
    width: float = 0.0
    stroke: object = None
    fill: object = None
    tag: str = "body"
    times: float = 1.0


@dataclass
class Scene:
    """A frame's shapes in body units, with its floor."""

    shapes: list[Shape] = field(default_factory=list)
    floor: float = 0.0
    ground: bool = True  # draw a floor line (not in the view from above)

    def add(self, kind: str, pts: list[XY], width=0.0, stroke=None, fill=None, tag="body"):
        self.shapes.append(Shape(kind, list(pts), width, stroke, fill, tag))

    def bounds(self) -> tuple[float, float, float, float]:
        xs, ys = [], []
        for shape in self.shapes:
            pad = 0.0 if shape.kind in ("poly", "inset") else shape.width
            for x, y in _outline(shape):
                xs += [x - pad, x + pad]
                ys += [y - pad, y + pad]
        return min(xs), min(ys), max(xs), max(ys)

    def tags(self) -> set[str]:
        return {shape.tag for shape in self.shapes}


def _outline(shape: Shape) -> list[XY]:
    """Points on a shape's path (a curve is sampled; its control point is not on it)."""
    if shape.kind == "inset":
        (x, y), r = shape.pts[1], shape.width * shape.times + INSET_RIM
        return [shape.pts[0], (x - r, y - r), (x + r, y + r)]
    if shape.kind not in ("curve", "arrow"):
        return shape.pts
    (x0, y0), (cx, cy), (x1, y1) = shape.pts
    out = []
    for i in range(9):
        t = i / 8
        a, b, c = (1 - t) ** 2, 2 * t * (1 - t), t**2
        out.append((a * x0 + b * cx + c * x1, a * y0 + b * cy + c * y1))
    return out


# --- the body -----------------------------------------------------------------------------------


def _body(scene: Scene, p: dict[str, XY], frame: Frame, view: str, lit: set[str], mark=None):
    """The body, back to front; ``mark`` (a point and a size) is an orange patch on the torso,
    over the legs and under the near arm, so a hand can rest on it."""
    if mark is not None:  # a trunk that works in place: only its working part is coloured
        lit = lit - {"trunk"}
    side_view = view == "side"
    far_fill, far_line = (FAR_FILL, FAR_OUTLINE) if side_view else (NEAR_FILL, OUTLINE)
    far = [("far", "thigh", "shin", "foot"), ("far", "upper_arm", "forearm")]
    near = [("near", "thigh", "shin", "foot"), ("near", "upper_arm", "forearm")]
    if side_view:
        for chain in far:
            _limb(scene, p, chain, far_fill, far_line, lit)
        _trunk(scene, p, frame, lit)
        _limb(scene, p, near[0], NEAR_FILL, OUTLINE, lit)
        _mark(scene, mark)
        _head(scene, p, frame, view, lit)
        _limb(scene, p, near[1], NEAR_FILL, OUTLINE, lit)
        return
    # a thigh that comes at the viewer (shortened: a knee pulled up toward the ceiling seen from
    # above) is in front of the torso
    raised = [c for c in (far[0], near[0]) if frame.short.get(f"{c[0]}_thigh", 1.0) < 0.9]
    for chain in (far[0], near[0]):
        if chain not in raised:
            _limb(scene, p, chain, NEAR_FILL, OUTLINE, lit)
    _trunk(scene, p, frame, lit)
    _mark(scene, mark)
    _head(scene, p, frame, view, lit)
    for chain in raised:
        _limb(scene, p, chain, NEAR_FILL, OUTLINE, lit)
    for chain in (far[1], near[1]):
        _limb(scene, p, chain, NEAR_FILL, OUTLINE, lit)


def _mark(scene: Scene, mark) -> None:
    if mark is not None:
        centre, size = mark
        scene.add("circle", [centre], size, OUTLINE, MOVE_FILL, "mark")


def _joint(p: dict[str, XY], side: str, name: str) -> str:
    """A segment's joint by its name in SEGMENT_ENDS; in the front views the hip and shoulder
    of a side are the ends of the pelvis and the shoulders."""
    if name in ("hip", "shoulder") and f"{side}_{name}" in p:
        return f"{side}_{name}"
    return name


def _limb(scene, p, chain, fill, line, lit) -> None:
    """A leg or an arm: outlines first, then fills, so the joints are seamless and round."""
    side, *bones = chain
    far = line is FAR_OUTLINE
    segments = []
    for bone in bones:
        start_name, end_name = SEGMENT_ENDS[f"{side}_{bone}"]
        a, b = p[_joint(p, side, start_name)], p[end_name]
        colour = (MOVE_FAR if far else MOVE_FILL) if f"{side}_{bone}" in lit else fill
        thin = FAR_THINNER if far else 1.0  # further away, a little smaller
        segments.append((a, b, THICK[bone] * thin, colour))
    shoe = "foot" in bones and "near_hip" not in p  # side view: a foot with heel and toes
    if shoe:
        a, b, half, colour = segments.pop()
    for a2, b2, half2, _ in segments:
        scene.add("line", [a2, b2], half2 + LINE, line)
    if shoe:
        _foot(scene, a, b, p[f"{side}_knee"], line, colour, half / THICK["foot"])
    for a2, b2, half2, colour2 in segments:
        scene.add("line", [a2, b2], half2, colour2)
    if "upper_arm" in bones:
        hand_fill = MOVE_FILL if f"{side}_forearm" in lit else SKIN
        scene.add("circle", [p[f"{side}_hand"]], HAND_RADIUS, line, hand_fill)


#: A foot seen from the side, in its own units: along the foot (ankle 0, toes 1) and across it
#: (the sole side positive, in body units). A round heel behind the ankle, a pointed toe.
FOOT_SHAPE = [
    (-0.12, -2.3),
    (-0.3, -0.9),
    (-0.34, 0.8),
    (-0.24, 2.3),
    (0.86, 2.3),
    (1.1, 1.6),
    (1.14, 0.7),
    (0.95, -0.4),
    (0.4, -1.6),
    (0.1, -2.4),
]


def _foot(scene: Scene, ankle: XY, toe: XY, knee: XY, line, fill, thin: float = 1.0) -> None:
    """A foot with a heel that sticks out behind the ankle and toes that end in a point, with a
    dark sole: a heel lifted and toes lifted cannot be mistaken for each other."""
    ux, uy = toe[0] - ankle[0], toe[1] - ankle[1]
    length = math.hypot(ux, uy) or 1.0
    nx, ny = -uy / length, ux / length
    if nx * (knee[0] - ankle[0]) + ny * (knee[1] - ankle[1]) > 0:
        nx, ny = -nx, -ny  # the sole faces away from the knee

    def at(along: float, across: float) -> XY:
        across *= thin
        return ankle[0] + ux * along + nx * across, ankle[1] + uy * along + ny * across

    outline = [at(a, c) for a, c in FOOT_SHAPE]
    scene.add("poly", _widen(outline, LINE), 0, None, line)
    scene.add("poly", outline, 0, None, fill)
    scene.add("line", [at(-0.2, 2.1), at(0.9, 2.1)], 0.55, line)


def _trunk(scene: Scene, p, frame: Frame, lit: set[str]) -> None:
    colour = MOVE_FILL if "trunk" in lit else NEAR_FILL
    if "near_hip" in p:  # front views: a torso as wide as the hips and shoulders
        corners = [p["near_hip"], p["far_hip"], p["far_shoulder"], p["near_shoulder"]]
        scene.add("poly", _widen(corners, 1.4), 0, OUTLINE, colour)
        return
    hip, shoulder = p["hip"], p["shoulder"]
    front = math.radians(face_angle(frame))
    bend = frame.spine * 0.35
    mid = ((hip[0] + shoulder[0]) / 2, (hip[1] + shoulder[1]) / 2)
    control = (mid[0] + bend * math.cos(front) * 2, mid[1] + bend * math.sin(front) * 2)
    scene.add("curve", [hip, control, shoulder], TRUNK_HALF + LINE, OUTLINE)
    scene.add("curve", [hip, control, shoulder], TRUNK_HALF, colour)


def _widen(corners: list[XY], by: float) -> list[XY]:
    cx = sum(x for x, _ in corners) / len(corners)
    cy = sum(y for _, y in corners) / len(corners)
    out = []
    for x, y in corners:
        d = math.hypot(x - cx, y - cy) or 1.0
        out.append((x + (x - cx) / d * by, y + (y - cy) / d * by))
    return out


def _head(scene: Scene, p, frame: Frame, view: str, lit: set[str]) -> None:
    shoulder, head = p["shoulder"], p["head"]
    neck_colour = MOVE_FILL if "head" in lit else SKIN
    scene.add("line", [shoulder, head], THICK["head"] + LINE, OUTLINE)
    scene.add("line", [shoulder, head], THICK["head"], neck_colour)
    scene.add("circle", [head], HEAD_RADIUS, OUTLINE, MOVE_FILL if "head" in lit else SKIN)
    up = frame.angle("head")
    r = HEAD_RADIUS
    if view == "side":
        face = face_angle(frame)
        turn = (face - up + 180) % 360 - 180  # about +-90: which way round the face is
        arc = [up + turn * 0.25 + (-turn * 1.45) * i / 12 for i in range(13)]
        hair = [_at(head, a, r) for a in arc]
        scene.add("poly", [head, *hair], 0, None, HAIR, "hair")
        scene.add("circle", [_at(_at(head, face, r * 0.5), up, r * 0.2)], 0.7, None, OUTLINE)
        nose = [_at(head, face - 25, r * 0.9), _at(head, face, r * 1.3), _at(head, face + 25, r)]
        scene.add("poly", nose, 0, OUTLINE, SKIN)
        return
    if view == "back":  # the back of the head: hair
        scene.add("circle", [head], r, OUTLINE, HAIR, "hair")
        return
    # a head that comes at the viewer (``short``) is bowed: more hair, the face lower
    bow = 1.0 - frame.short.get("head", 1.0)
    spread = 62 + int(bow * 70)
    cap = [_at(head, up + a, r) for a in range(-spread, spread + 1, 8)]
    scene.add("poly", cap, 0, None, HAIR, "hair")
    eyes = r * (0.05 - bow * 0.85)
    for sign in (-1, 1):
        scene.add("circle", [_at(_at(head, up, eyes), up + 90 * sign, r * 0.38)], 0.65)
        scene.shapes[-1].fill = OUTLINE
    if bow < 0.3:
        mouth = [_at(_at(head, up, -r * 0.45), up + 90 * s, r * 0.28) for s in (-1, 1)]
        scene.add("line", mouth, 0.3, OUTLINE)


def _at(origin: XY, angle: float, length: float) -> XY:
    rad = math.radians(angle)
    return origin[0] + length * math.cos(rad), origin[1] + length * math.sin(rad)


def body_floor(scene: Scene) -> float:
    return scene.bounds()[1]


# --- props --------------------------------------------------------------------------------------


def _props_before(
    scene: Scene, p, frame: Frame, props: Props, view: str, floor: float, above: bool = False
) -> float:
    """Props drawn behind the body; returns the floor (lowered by what the body stands on)."""
    if props.step:
        floor = _step(scene, p, props, floor)
    if props.roller:
        floor = _roller(scene, p[props.roller], view, floor)
    if props.bike:
        floor = _bike(scene, p, floor)
    if props.chair == "seat":
        floor = _seat(scene, p, frame, view, floor)
    if props.chair == "support":
        _support(scene, p, view, floor)
    if props.wall:
        _wall(scene, p, props, floor)
    if props.ball:
        _ball(scene, p, props, floor)
    if props.pillow:
        scene.add("poly", _pillow(p["head"], above), 0, PROP, colors.white, "pillow")
    return floor


def _pillow(head: XY, above: bool) -> list[XY]:
    """Under the head: seen from the side a flat slab, from above a cushion round it."""
    x, y = head
    if above:
        box = [(x - 9, y - 8), (x + 6, y - 8), (x + 6, y + 8), (x - 9, y + 8)]
    else:
        box = [(x - 7, y - 7.5), (x + 7, y - 7.5), (x + 7, y - 2.5), (x - 7, y - 2.5)]
    return _widen(box, 0.8)


def _step(scene, p, props, floor) -> float:
    feet = ["near", "far"] if props.step == "both_feet" else [props.step.split("_")[0]]
    top = min(min(p[f"{f}_ankle"][1], p[f"{f}_toe"][1]) for f in feet) - THICK["foot"] - LINE
    xs = [x for f in feet for x in (p[f"{f}_ankle"][0], p[f"{f}_toe"][0])]
    left = min(xs) - 5
    width = max(STEP_WIDTH, max(xs) - min(xs) + 10)
    bottom = min(floor, top - STEP_HEIGHT)
    box = [(left, bottom), (left + width, bottom), (left + width, top), (left, top)]
    scene.add("poly", box, 0, PROP, WOOD, "step")
    scene.add("line", [(left, top), (left + width, top)], 0.6, PROP, None, "step")
    return bottom


def _roller(scene, at: XY, view: str, floor: float) -> float:
    x, y = at
    radius = 5.0
    top = y - 3.0
    cy = top - radius
    if view == "side":  # seen end on: a tube going back into the picture, its near end round
        far = (x + 9.0, cy + 5.0)
        scene.add("circle", [far], radius, PROP, ROLLER, "roller")
        scene.add("line", [(x, cy), far], radius + 0.5, PROP, None, "roller")
        scene.add("line", [(x, cy), far], radius - 0.3, ROLLER, None, "roller")
        scene.add("circle", [(x, cy)], radius, PROP, ROLLER, "roller")
        scene.add("circle", [(x, cy)], radius * 0.35, PROP, colors.white, "roller")
    else:
        half = 20  # seen along its length: a long tube with a shine and round ends
        scene.add("line", [(x - half, cy), (x + half, cy)], radius + 0.6, PROP, None, "roller")
        scene.add("line", [(x - half, cy), (x + half, cy)], radius, ROLLER, None, "roller")
        shine = [(x - half + 1, cy + radius * 0.45), (x + half - 1, cy + radius * 0.45)]
        scene.add("line", shine, 0.7, colors.white, None, "roller")
    return min(floor, cy - radius)


def _bike(scene: Scene, p, floor: float) -> float:
    """An exercise bike: saddle under the hip, the pedals' circle through both feet."""
    (ax, ay), (bx, by) = p["near_ankle"], p["far_ankle"]
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    crank = max(4.0, math.hypot(ax - bx, ay - by) / 2)
    hx, hy = p["hip"]
    base = min(floor, cy - crank - 7)
    hand = p["near_hand"]
    wheel = (cx + 14, cy + 2)
    scene.add("circle", [wheel], 9, BIKE, PROP_FILL, "bike")
    scene.add("circle", [wheel], 2, BIKE, BIKE, "bike")
    frame_lines = [
        [(cx - 16, base + 1.6), (cx + 24, base + 1.6)],  # the base on the floor
        [(cx - 4, base + 1.6), (hx - 2, hy - 5)],  # seat post
        [(cx, cy), (hand[0] - 1, hand[1] - 2)],  # front post to the handlebars
        [(cx + 14, base + 1.6), (cx + 6, cy + 8)],
        [(cx - 4, base + 1.6), (cx, cy)],
    ]
    for line in frame_lines:
        scene.add("line", line, 1.6, BIKE, None, "bike")
    scene.add("line", [(hx - 6, hy - 4.5), (hx + 4, hy - 4.5)], 1.8, BIKE, None, "bike")
    scene.add("line", [(hand[0] - 4, hand[1] - 1), (hand[0] + 2, hand[1] - 1)], 1.2, BIKE, None)
    scene.shapes[-1].tag = "bike"
    scene.add("circle", [(cx, cy)], crank, BIKE, None, "bike")
    return base


def _seat(scene: Scene, p, frame: Frame, view: str, floor: float) -> float:
    hx, hy = p["hip"]
    thigh = frame.angle("near_thigh") % 360
    sitting = thigh <= 60 or thigh >= 300 or view != "side"
    seat = hy - 4 if sitting else floor + CHAIR_SEAT
    floor = min(floor, seat - CHAIR_SEAT)
    if view != "side":
        width = 2 * CHAIR_DEPTH * 0.7
        left = hx - width / 2
        back = [(left + 2, seat), (left + width - 2, seat), (left + width - 2, seat + 24)]
        scene.add("poly", [*back, (left + 2, seat + 24)], 0, PROP, WOOD, "chair")
        for x in (left + 1.5, left + width - 1.5):
            scene.add("line", [(x, seat), (x, floor + 1.2)], 1.2, PROP, WOOD, "chair")
        slab = [(left, seat - 2.5), (left + width, seat - 2.5), (left + width, seat)]
        scene.add("poly", [*slab, (left, seat)], 0, PROP, WOOD, "chair")
        return floor
    back = hx - 10 if sitting else hx - 12 - CHAIR_DEPTH
    top = seat + CHAIR_BACK - CHAIR_SEAT
    scene.add("line", [(back, seat), (back, top)], 1.6, PROP, None, "chair")
    scene.add("line", [(back, seat), (back, top)], 0.9, WOOD, None, "chair")
    slab = [(back - 1, seat - 2.5), (back + CHAIR_DEPTH, seat - 2.5), (back + CHAIR_DEPTH, seat)]
    scene.add("poly", [*slab, (back - 1, seat)], 0, PROP, WOOD, "chair")
    for x in (back + 0.5, back + CHAIR_DEPTH - 1.5):
        scene.add("line", [(x, seat - 2.5), (x, floor + 1)], 1.0, PROP, None, "chair")
    return floor


def _support(scene: Scene, p, view: str, floor: float) -> None:
    """A chair held by its back: in front of the figure, facing away."""
    hx, hy = p["near_hand"]
    if view != "side":  # seen from behind: the chair's back, about as wide as the hips
        left, right = p["hip"][0] - 11, p["hip"][0] + 11
        top = hy - 1
        for x in (left, right):
            scene.add("line", [(x, top), (x, floor + 1.1)], 1.1, PROP, None, "chair")
        scene.add("line", [(left, top), (right, top)], 1.6, PROP, None, "chair")
        scene.add("line", [(left, floor + CHAIR_SEAT), (right, floor + CHAIR_SEAT)], 1.2, PROP)
        scene.shapes[-1].tag = "chair"
        return
    x = hx + 2
    seat = floor + CHAIR_SEAT
    scene.add("line", [(x, hy), (x, floor + 1.6)], 1.6, PROP, None, "chair")
    scene.add("line", [(x, hy), (x, floor + 1.6)], 0.9, WOOD, None, "chair")
    slab = [(x, seat - 2.5), (x + CHAIR_DEPTH, seat - 2.5), (x + CHAIR_DEPTH, seat), (x, seat)]
    scene.add("poly", slab, 0, PROP, WOOD, "chair")
    scene.add("line", [(x + CHAIR_DEPTH - 1, seat), (x + CHAIR_DEPTH - 1, floor + 1)], 1.0, PROP)
    scene.shapes[-1].tag = "chair"


def _counter(scene: Scene, p, floor: float) -> None:
    """A kitchen counter behind the figure, the near hand resting on its worktop: a cupboard
    with two doors and knobs under a thick top that overhangs it."""
    xs = [x for x, _ in p.values()]
    left, right = min(xs) - 14, max(xs) + 14
    top = p["near_hand"][1] - HAND_RADIUS
    board = [(left, floor), (right, floor), (right, top - 3), (left, top - 3)]
    scene.add("poly", board, 0, PROP, PROP_FILL, "wall")
    worktop = [(left - 3, top - 3.2), (right + 3, top - 3.2), (right + 3, top), (left - 3, top)]
    scene.add("poly", worktop, 0, PROP, WOOD, "wall")
    middle = (left + right) / 2
    for x0, x1 in ((left + 2, middle - 1), (middle + 1, right - 2)):
        door = [(x0, floor + 3), (x1, floor + 3), (x1, top - 6), (x0, top - 6)]
        scene.add("poly", door, 0, PROP, colors.white, "wall")
        knob = (x1 - 3, top - 10) if x0 < middle else (x0 + 3, top - 10)
        scene.add("circle", [knob], 1.0, PROP, PROP, "wall")


def _wall(scene: Scene, p, props: Props, floor: float) -> None:
    if props.wall == "counter":
        _counter(scene, p, floor)
        return
    if props.wall == "beside":  # a kitchen counter along the figure, behind it
        xs = [x for x, _ in p.values()]
        left, right = min(xs) - 12, max(xs) + 12
        top = floor + 36
        box = [(left, floor), (right, floor), (right, top), (left, top)]
        scene.add("poly", box, 0, PROP, PROP_FILL, "wall")
        scene.add("line", [(left - 1, top), (right + 1, top)], 1.4, PROP, None, "wall")
        for x in (left + (right - left) / 3, left + 2 * (right - left) / 3):
            scene.add("line", [(x, floor + 2), (x, top - 3)], 0.3, PROP, None, "wall")
        return
    xs = [x for name, (x, _) in p.items() if name != "head"]
    xs += [p["head"][0] - HEAD_RADIUS, p["head"][0] + HEAD_RADIUS]
    x = max(xs) + TRUNK_HALF if props.wall == "front" else min(xs) - TRUNK_HALF
    if props.ball:  # the ball is between the body and the wall
        bx = p[props.ball][0]
        x = bx - 14.5 if props.wall == "behind" else bx + 14.5
    width = 5.0
    left = x - width if props.wall == "behind" else x
    box = [(left, floor), (left + width, floor), (left + width, floor + 64), (left, floor + 64)]
    scene.add("poly", box, 0, PROP, PROP_FILL, "wall")
    for i in range(1, 9):
        y = floor + i * 7
        scene.add("line", [(left, y), (left + width, y + 3)], 0.25, PROP, None, "wall")


def _ball(scene: Scene, p, props: Props, floor: float) -> None:
    x, y = p[props.ball]
    if props.wall == "behind":
        centre = (x - 10.0, y + 2)
    elif props.wall == "front":
        centre = (x + 10.0, y + 2)
    else:
        centre = (x, y - 6.5)
    scene.add("circle", [centre], BALL_RADIUS, PROP, BALL, "ball")
    shine = (centre[0] + BALL_RADIUS * 0.35, centre[1] + BALL_RADIUS * 0.35)
    scene.add("circle", [shine], BALL_RADIUS * 0.25, None, colors.white, "ball")


def _band(scene: Scene, p, props: Props, floor: float) -> None:
    """A loop of band between its two ends, with a ring where it goes round each."""
    first, second = props.band
    ends = []
    for end in (first, second):
        if end == "table":
            toe = p["near_toe"]
            x = toe[0] + 16
            scene.add("line", [(x, floor + 1.8), (x, floor + 42)], 1.8, PROP, WOOD, "table")
            scene.add("line", [(x - 2, floor + 42), (x + 26, floor + 42)], 2.2, PROP, None)
            scene.shapes[-1].tag = "table"
            ends.append((x, floor + 4))
        else:
            ends.append(p[end])
    if first == "table" and second.endswith("toe"):
        _tied_band(scene, ends[0], p[second.replace("toe", "ankle")], p[second])
        return
    (x1, y1), (x2, y2) = ends
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length * 1.2, dx / length * 1.2
    scene.add("line", [(x1 + nx, y1 + ny), (x2 + nx, y2 + ny)], 1.2, BAND, None, "band")
    scene.add("line", [(x1 - nx, y1 - ny), (x2 - nx, y2 - ny)], 1.2, BAND, None, "band")
    for end, (x, y) in zip((first, second), ends, strict=True):
        radius = 2.0 if end == "table" else 3.6
        scene.add("circle", [(x, y)], radius, BAND, None, "band")


def _tied_band(scene: Scene, knot: XY, ankle: XY, toe: XY) -> None:
    """A band tied round a table leg in a knot, its two strands running to a loop round the
    front of the foot, behind it: where it is tied and how it holds the foot show at a glance."""
    ux, uy = toe[0] - ankle[0], toe[1] - ankle[1]
    length = math.hypot(ux, uy) or 1.0
    ux, uy = ux / length, uy / length
    centre = (ankle[0] + ux * length * 0.7, ankle[1] + uy * length * 0.7)
    loop = []
    for i in range(17):
        t = math.radians(i * 22.5)
        along, across = 1.4 * math.cos(t), (THICK["foot"] + 1.8) * math.sin(t)
        loop.append((centre[0] + ux * along - uy * across, centre[1] + uy * along + ux * across))
    top, bottom = loop[4], loop[12]
    behind = [Shape("line", [knot, end], 0.9, BAND, None, "band") for end in (top, bottom)]
    behind.append(Shape("line", loop, 0.9, BAND, None, "band"))
    body = next(i for i, shape in enumerate(scene.shapes) if shape.tag == "body")
    scene.shapes[body:body] = behind  # the foot in front of its loop: both stay plain
    scene.add("circle", [knot], 2.4, OUTLINE, BAND, "band")
    for tail in ((-3.5, -3.0), (-3.0, 3.2)):
        scene.add("line", [knot, _moved(knot, tail)], 0.9, BAND, None, "band")


def _mat(scene: Scene, view: str, floor: float, box=None) -> float:
    """A mat under the body: a slab on the floor, or (from above) a sheet behind the body
    (``box``: the sheet's extent, when it is not the frame's own)."""
    x0, y0, x1, y1 = box or scene.bounds()
    if view == "above":  # a mat on the floor, seen from above and in front: its far edge
        bottom, top, slant = y0 - 4, y1 + 3, (y1 - y0) * 0.22  # is narrower, its near edge thick
        sheet = [(x0 - 6, bottom), (x1 + 6, bottom), (x1 + 6 - slant, top), (x0 - 6 + slant, top)]
        edge = [(x0 - 6, bottom - 2.5), (x1 + 6, bottom - 2.5), (x1 + 6, bottom), (x0 - 6, bottom)]
        scene.shapes[:0] = [
            Shape("poly", edge, 0, PROP, MAT, "mat"),
            Shape("poly", sheet, 0, PROP, MAT_SHEET, "mat"),
        ]
        return bottom - 2.5
    box = [(x0 - 2, floor - 2.5), (x1 + 2, floor - 2.5), (x1 + 2, floor), (x0 - 2, floor)]
    scene.shapes.insert(0, Shape("poly", box, 0, PROP, MAT, "mat"))
    return floor - 2.5


# --- frames -------------------------------------------------------------------------------------


def scene(pose: Pose, which: str, *, mirror: bool = False) -> Scene:
    """The start or end frame of a pose, as shapes (the end with its highlights and arrows)."""
    frame = getattr(pose, which)
    lit = set(pose.moving()) if which == "end" else set()
    out = _frame_scene(pose, frame, lit, mark=which == "end")
    if which == "end":
        _extras(out, pose)
        if pose.hold:
            _stopwatch(out, _moved(skeleton(frame, pose.body_view)[pose.hold.at], pose.hold.off))
    if pose.gap and pose.body_view == "side":
        _gap(out, pose, frame)
    if pose.gaze and pose.body_view == "side":
        _gaze(out, frame, pose.body_view)
    if pose.zoom:
        at = _moved(skeleton(frame, pose.body_view)[pose.zoom.at], pose.zoom.shift)
        centre = _moved(at, pose.zoom.off)
        out.shapes.append(
            Shape(
                "inset", [at, centre], pose.zoom.radius, PROP, colors.white, "zoom", pose.zoom.times
            )
        )
    if mirror:
        for shape in out.shapes:
            shape.pts = [(-x, y) for x, y in shape.pts]
    return out


def _frame_scene(
    pose: Pose, frame: Frame, lit: set[str], sheet: bool = True, mark: bool = False
) -> Scene:
    view, props = pose.body_view, pose.frame_props(frame)
    p = skeleton(frame, view)
    body = Scene()
    patch = None
    if mark and pose.mark is not None:
        patch = (_moved(p[pose.mark.at], pose.mark.off), pose.mark.size)
    _body(body, p, frame, view, lit, patch)
    floor = body_floor(body)
    before = Scene()
    floor = _props_before(before, p, frame, props, view, floor, pose.view == "above")
    out = Scene(shapes=before.shapes + body.shapes, floor=floor, ground=pose.view != "above")
    if props.band:
        _band(out, p, props, floor)
        out.floor = floor = min(floor, out.bounds()[1])
    if props.mat:
        box = _sheet(pose) if pose.view == "above" and sheet else None
        out.floor = _mat(out, pose.view, floor, box)
    return out


def _sheet(pose: Pose) -> tuple[float, float, float, float]:
    """Seen from above, the mat is one size in both pictures: round both bodies."""
    boxes = [_frame_scene(pose, f, set(), sheet=False).bounds() for f in (pose.start, pose.end)]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _offset(pose: Pose) -> XY:
    """How far the start frame's coordinates are from the end frame's (by the fixed point)."""
    start, end = skeleton(pose.start, pose.body_view), skeleton(pose.end, pose.body_view)
    s_floor = _frame_scene(pose, pose.start, set()).floor
    e_floor = _frame_scene(pose, pose.end, set()).floor
    name = pose.anchor or _anchor(start, end, s_floor, e_floor)
    if pose.anchor is None and name == "hip":
        return 0.0, (e_floor - s_floor)
    return end[name][0] - start[name][0], end[name][1] - start[name][1]


def _anchor(start, end, s_floor: float, e_floor: float) -> str:
    if abs((start["hip"][1] - s_floor) - (end["hip"][1] - e_floor)) < 3:
        return "hip"
    for name in ("far_toe", "near_toe", "far_knee", "near_hand"):
        if abs(start[name][1] - s_floor) < 6 and abs(end[name][1] - e_floor) < 6:
            return name
    return "hip"


def _extras(out: Scene, pose: Pose) -> None:
    """The end frame's shadow of the start and its arrows."""
    dx, dy = _offset(pose)
    start = {k: (x + dx, y + dy) for k, (x, y) in skeleton(pose.start, pose.body_view).items()}
    end = skeleton(pose.end, pose.body_view)
    moving = [s for s in pose.moving() if s != "trunk"]
    if pose.ghost and moving:
        ghost = []
        for segment in moving:
            if segment == "head":
                ghost.append(Shape("circle", [start["head"]], HEAD_RADIUS, None, GHOST, "ghost"))
                continue
            a, b = SEGMENT_ENDS[segment]
            side = segment.split("_")[0]
            a = _joint(start, side, a)
            half = THICK.get(segment.removeprefix("near_").removeprefix("far_"), 2.0)
            ghost.append(Shape("line", [start[a], start[b]], half, GHOST, None, "ghost"))
        # from above the mat is a sheet under the whole body: the shadow goes on it
        mats = [i + 1 for i, s in enumerate(out.shapes) if s.tag == "mat"]
        on = max(mats) if pose.view == "above" and mats else 0
        out.shapes[on:on] = ghost
    if "near_hip" in start and _shortened_trunk(pose):  # front views: a lean forward shows
        corners = [start["near_hip"], start["far_hip"], start["far_shoulder"]]  # the upright
        torso = Shape("poly", [*corners, start["near_shoulder"]], 0, None, GHOST, "ghost")
        body = next(i for i, s in enumerate(out.shapes) if s.tag == "body")  # torso in front
        out.shapes.insert(body, torso)  # of the chair, behind the body
    arrows = pose.arrows if pose.arrows is not None else _default_arrows(pose, moving)
    for arrow in arrows:
        _arrow(out, arrow, start, end, pose)


def _shortened_trunk(pose: Pose) -> bool:
    """The trunk comes at the viewer (a lean forward seen from the front)."""
    return abs(pose.start.short.get("trunk", 1.0) - pose.end.short.get("trunk", 1.0)) > 0.15


def _default_arrows(pose: Pose, moving: list[str]) -> tuple[Arrow, ...]:
    if not moving:
        return ()
    order = ["foot", "shin", "thigh", "forearm", "upper_arm", "head"]
    tips = {"foot": "toe", "shin": "ankle", "thigh": "knee", "forearm": "hand"}
    tips |= {"upper_arm": "elbow", "head": "head"}
    for bone in order:
        for segment in moving:
            if segment.endswith(bone):
                side = segment.split("_")[0]
                point = "head" if bone == "head" else f"{side}_{tips[bone]}"
                return (Arrow(at=point),)
    return ()


def _arrow(out: Scene, arrow: Arrow, start, end, pose: Pose) -> None:
    if arrow.nod:
        a, control, b = _nod(arrow, end, pose)
    elif arrow.by is None:
        a, b = _moved(start[arrow.at], arrow.off), _moved(end[arrow.at], arrow.off)
        pivot = _pivot(arrow.at, pose, end)
        if math.hypot(b[0] - a[0], b[1] - a[1]) < 2:
            return
        a, b, control = _arc(a, b, pivot, HEAD_RADIUS + 2.5 if arrow.at == "head" else 5.0)
        if pivot is None and arrow.bend:
            control = (
                control[0] - (b[1] - a[1]) * arrow.bend,
                control[1] + (b[0] - a[0]) * arrow.bend,
            )
    else:
        a = (end[arrow.at][0] + arrow.off[0], end[arrow.at][1] + arrow.off[1])
        b = (a[0] + arrow.by[0], a[1] + arrow.by[1])
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        control = (mid[0] - arrow.by[1] * arrow.bend, mid[1] + arrow.by[0] * arrow.bend)
    # the head's nod is the whole difference between a glide and a stretch: a thicker arrow
    half = NOD_HALF if arrow.nod and arrow.at == "head" else ARROW_HALF
    shape = Shape("arrow", [a, control, b], half, ARROW, ARROW, "arrow")
    lift = out.floor + 1.6 - min(y for _, y in _outline(shape))
    if lift > 0:  # an arrow by the feet stays above the floor
        shape.pts = [(x, y + lift) for x, y in shape.pts]
    out.shapes.append(shape)


NOD_GAP = 6.5  # a nod's arc runs this far outside the head


def _nod(arrow: Arrow, end, pose: Pose) -> tuple[XY, XY, XY]:
    """An arc (the short way) round the face, or round an ankle, from where the face or the
    foot pointed at the start to just short of where it points at the end (a gaze line goes
    on from there): chin down to the chest or up to the ceiling, toes pulled up or pointed."""
    if arrow.at == "head":
        radius = HEAD_RADIUS + NOD_GAP
        f0, f1 = face_angle(pose.start), face_angle(pose.end)
    else:
        foot = arrow.at.replace("ankle", "foot")
        radius = BONES["foot"] * pose.end.short.get(foot, 1.0) + NOD_GAP
        f0, f1 = pose.start.angle(foot), pose.end.angle(foot)
    centre = end[arrow.at]
    turn = (f1 - f0 + 180) % 360 - 180
    f1 = f0 + turn - math.copysign(min(16.0, abs(turn) * 0.2), turn)
    a, b = _at(centre, f0, radius), _at(centre, f1, radius)
    mid = _at(centre, (f0 + f1) / 2, radius)
    control = (2 * mid[0] - (a[0] + b[0]) / 2, 2 * mid[1] - (a[1] + b[1]) / 2)
    return a, control, b


GAP_SEEN = 0.6  # a back this far off the floor leaves a gap worth showing


def _gap(out: Scene, pose: Pose, frame: Frame) -> None:
    """The space between the back and the floor, in yellow, behind the body (lying, side view):
    the curve of the back's underside down to the floor where it lifts off it."""
    if frame.spine <= 0:  # a rounded or straight back lies flat
        return
    p = skeleton(frame, "side")
    (x0, y0), (x1, y1) = p["hip"], p["shoulder"]
    cx, cy = _spine_middle(frame, p)
    control = (2 * cx - (x0 + x1) / 2, 2 * cy - (y0 + y1) / 2)
    body = Scene()
    _body(body, p, frame, "side", set())
    floor = body_floor(body)
    under = []
    for i in range(25):
        t = i / 24
        a, b, c = (1 - t) ** 2, 2 * t * (1 - t), t**2
        x, y = a * x0 + b * control[0] + c * x1, a * y0 + b * control[1] + c * y1
        under.append((x, y - TRUNK_HALF - LINE))
    lifted = [(x, y) for x, y in under if y > floor + GAP_SEEN]
    if len(lifted) < 3:
        return
    edge = [lifted[0][0], lifted[-1][0]]
    gap = [*lifted, (edge[1], floor), (edge[0], floor)]
    index = next((i for i, s in enumerate(out.shapes) if s.tag == "body"), 0)
    out.shapes.insert(index, Shape("poly", gap, 0, ARROW, GAP, "gap"))


def _gaze(out: Scene, frame: Frame, view: str) -> None:
    """A dashed line from the eye, the way the face looks: at the lap, or up at the ceiling."""
    p = skeleton(frame, view)
    face, up = face_angle(frame), frame.angle("head")
    eye = _at(_at(p["head"], face, HEAD_RADIUS * 0.5), up, HEAD_RADIUS * 0.2)
    start = _at(eye, face, HEAD_RADIUS * 1.1)
    out.add("dash", [start, _at(start, face, GAZE)], 0.5, OUTLINE, None, "gaze")


def _stopwatch(out: Scene, at: XY) -> None:
    """A stopwatch: a round face with a button on top and hands at twelve and two."""
    x, y = at
    r = STOPWATCH
    out.add("line", [(x, y + r), (x, y + r + 2.2)], 1.1, OUTLINE, None, "hold")
    out.add("line", [(x - 1.8, y + r + 2.6), (x + 1.8, y + r + 2.6)], 1.1, OUTLINE, None, "hold")
    out.add("circle", [at], r, OUTLINE, ARROW, "hold")
    out.add("circle", [at], r - 1.3, None, colors.white, "hold")
    out.add("line", [at, (x, y + r * 0.65)], 0.55, OUTLINE, None, "hold")
    out.add("line", [at, _at(at, 20, r * 0.55)], 0.55, OUTLINE, None, "hold")


def _moved(point: XY, by: tuple[float, float]) -> XY:
    return point[0] + by[0], point[1] + by[1]


def _pivot(point: str, pose: Pose, end) -> XY | None:
    """The joint a moving tip turns about: the root of the first moving segment of its limb."""
    if point in ("head", "shoulder"):  # a nod turns about the neck, a bend about the hip
        return end["hip"] if "trunk" in pose.moving() or point == "shoulder" else end["shoulder"]
    side = point.split("_")[0]
    if side not in ("near", "far"):
        return None
    leg = point.endswith(("knee", "ankle", "toe"))
    moving = pose.moving()
    for bone in ("thigh", "shin", "foot") if leg else ("upper_arm", "forearm"):
        if f"{side}_{bone}" in moving:
            return end[_joint(end, side, SEGMENT_ENDS[f"{side}_{bone}"][0])]
    return None


def _arc(a: XY, b: XY, pivot: XY | None, grow: float = 5.0) -> tuple[XY, XY, XY]:
    """Endpoints pushed a little out from the limb and a control point for a curved path."""
    if pivot is None:
        mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
        return a, b, mid
    px, py = pivot
    ra, rb = math.hypot(a[0] - px, a[1] - py), math.hypot(b[0] - px, b[1] - py)
    if ra < 1 or rb < 1:
        return a, b, ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
    a = (px + (a[0] - px) * (ra + grow) / ra, py + (a[1] - py) * (ra + grow) / ra)
    b = (px + (b[0] - px) * (rb + grow) / rb, py + (b[1] - py) * (rb + grow) / rb)
    mx, my = (a[0] + b[0]) / 2 - px, (a[1] + b[1]) / 2 - py
    radius = (ra + rb) / 2 + grow
    d = math.hypot(mx, my) or 1.0
    on_arc = (px + mx / d * radius, py + my / d * radius)
    control = (2 * on_arc[0] - (a[0] + b[0]) / 2, 2 * on_arc[1] - (a[1] + b[1]) / 2)
    return a, b, control


# --- on the page --------------------------------------------------------------------------------


class PoseDrawing(Flowable):
    """Start and end frames side by side, drawn straight onto the canvas (no graphics tree:
    a handout holds a dozen of these, and direct canvas calls cost a fraction)."""

    def __init__(
        self,
        pose: Pose,
        width,
        height,
        font: str,
        labels,
        mirror: bool = False,
        least: float | None = None,
    ):
        super().__init__()
        self.pose, self.width, self.height = pose, width, height
        self.font, self.labels, self.mirror = font, labels, mirror
        self.least = least

    def wrap(self, availWidth, availHeight):
        return self.width, self.height

    def layout(self) -> list[Panel]:
        """Start and end side by side, or one above the other when that draws them bigger
        (a patient lying down is wide and low)."""
        scenes = [scene(self.pose, w, mirror=self.mirror) for w in ("start", "end")]
        boxes = [(*s.bounds()[:3], s.bounds()[3]) for s in scenes]
        boxes = [(b[0], min(b[1], s.floor), b[2], b[3]) for b, s in zip(boxes, scenes, strict=True)]
        span_w = max(b[2] - b[0] for b in boxes) + 2
        span_h = max(b[3] - b[1] for b in boxes) + 2
        label = self.label_size()
        gap = self.width * 0.07
        beside = ((self.width - gap) / 2, self.height - label * 1.5)
        above = (self.width - label * 3.2, (self.height - label * 0.6) / 2)
        scale_beside = min(beside[0] / span_w, beside[1] / span_h)
        scale_above = min(above[0] / span_w, above[1] / span_h)
        panels = []
        for index, (sc, box) in enumerate(zip(scenes, boxes, strict=True)):
            if scale_beside >= scale_above:
                scale, (frame_w, frame_h) = scale_beside, beside
                left, bottom = index * (frame_w + gap), label * 1.5
            else:
                scale, (frame_w, frame_h) = scale_above, above
                left, bottom = label * 3.2, (1 - index) * (frame_h + label * 0.6)
            ox = left + (frame_w - (box[2] - box[0]) * scale) / 2 - box[0] * scale
            oy = bottom - box[1] * scale + (frame_h - (box[3] - box[1]) * scale) * 0.4
            panels.append(Panel(sc, scale, ox, oy, left, bottom, frame_w, frame_h))
        return panels

    def label_size(self) -> float:
        """The "Start" and "End" labels: in proportion to the picture, never under the
        document's least print size."""
        size = max(6.5, min(14.0, self.height * 0.07))
        return max(size, self.least) if self.least else size

    def draw(self) -> None:
        canvas = self.canv
        label = self.label_size()
        canvas.saveState()
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        panels = self.layout()
        for index, panel in enumerate(panels):
            _draw_scene(canvas, panel)
            canvas.setFillColor(LABEL)
            canvas.setFont(self.font, label)
            if panel.left > 0 and panels[0].left == panel.left:  # one above the other
                canvas.drawString(
                    0, panel.bottom + panel.height / 2 - label / 3, self.labels[index]
                )
            else:
                mid = panel.left + panel.width / 2
                canvas.drawCentredString(mid, label * 0.3, self.labels[index])
        canvas.setStrokeColor(LABEL)
        canvas.setLineWidth(1.5)
        if panels[0].left == panels[1].left:  # a downward arrow between the rows
            x, y, size = label * 1.2, panels[0].bottom - label * 0.3, label * 0.7
            canvas.line(x, y + size, x, y - size)
            canvas.line(x - size * 0.5, y - size * 0.4, x, y - size)
            canvas.line(x, y - size, x + size * 0.5, y - size * 0.4)
        else:
            gap = panels[1].left - panels[0].width
            x, y = panels[0].width + gap / 2, self.height / 2
            canvas.line(x - gap * 0.3, y, x + gap * 0.3, y)
            canvas.line(x + gap * 0.1, y + gap * 0.18, x + gap * 0.3, y)
            canvas.line(x + gap * 0.3, y, x + gap * 0.1, y - gap * 0.18)
        canvas.restoreState()


@dataclass
class Panel:
    """Where a frame goes: its scale, the page point of its body origin, and its box."""

    scene: Scene
    scale: float
    ox: float
    oy: float
    left: float
    bottom: float
    width: float
    height: float


def _draw_scene(canvas, panel: Panel) -> None:
    """Emit one frame: the floor, then every shape in order, in page units."""
    sc, scale = panel.scene, panel.scale

    def at(point: XY) -> XY:
        return panel.ox + point[0] * scale, panel.oy + point[1] * scale

    if sc.ground:
        canvas.setStrokeColor(PROP)
        canvas.setLineWidth(1.0)
        y = at((0, sc.floor))[1]
        canvas.line(panel.left, y, panel.left + panel.width, y)
    for index, shape in enumerate(sc.shapes):
        if shape.kind == "inset":
            _inset(canvas, panel, sc.shapes[:index], shape)
        else:
            _emit(canvas, shape, at, scale)


def _inset(canvas, panel: Panel, shapes: list[Shape], inset: Shape) -> None:
    """A round window on the shapes about ``pts[0]``, enlarged ``times`` about ``pts[1]``, with
    a ring round what it enlarges and a line from that ring to the window."""
    (sx, sy), (cx, cy) = inset.pts
    times, r = inset.times, inset.width

    def at(point: XY) -> XY:
        return panel.ox + point[0] * panel.scale, panel.oy + point[1] * panel.scale

    def zoomed(point: XY) -> XY:
        return at((cx + (point[0] - sx) * times, cy + (point[1] - sy) * times))

    (px, py), (qx, qy) = at((sx, sy)), at((cx, cy))
    big, small = r * times * panel.scale, r * panel.scale
    d = math.hypot(qx - px, qy - py) or 1.0
    ux, uy = (qx - px) / d, (qy - py) / d
    canvas.setStrokeColor(PROP)
    canvas.setLineWidth(0.8)
    canvas.line(px + ux * small, py + uy * small, qx - ux * big, qy - uy * big)
    canvas.circle(px, py, small, stroke=1, fill=0)
    canvas.saveState()
    window = canvas.beginPath()
    window.circle(qx, qy, big)
    canvas.clipPath(window, stroke=0, fill=0)
    canvas.setFillColor(colors.white)
    canvas.circle(qx, qy, big, stroke=0, fill=1)
    if panel.scene.ground:
        y = zoomed((0, panel.scene.floor))[1]
        canvas.setStrokeColor(PROP)
        canvas.setLineWidth(1.6 * times)
        canvas.line(qx - big, y, qx + big, y)
    for shape in shapes:
        _emit(canvas, shape, zoomed, panel.scale * times)
    canvas.restoreState()
    canvas.setStrokeColor(PROP)
    canvas.setLineWidth(INSET_RIM * panel.scale * 2)
    canvas.circle(qx, qy, big, stroke=1, fill=0)


def _emit(canvas, shape: Shape, at, scale: float) -> None:
    """Draw one shape in page units."""
    pts = [at(p) for p in shape.pts]
    stroke, fill = int(shape.stroke is not None), int(shape.fill is not None)
    if shape.stroke is not None:
        canvas.setStrokeColor(shape.stroke)
    if shape.fill is not None:
        canvas.setFillColor(shape.fill)
    if shape.kind == "dash":  # a dashed line, as long as the shape's dashes allow
        canvas.setLineWidth(2 * shape.width * scale)
        canvas.setDash([2.2 * scale, 1.6 * scale])
        canvas.line(*pts[0], *pts[1])
        canvas.setDash([])
        return
    if shape.kind in ("line", "curve", "arrow"):
        canvas.setLineWidth(2 * shape.width * scale)
    else:
        canvas.setLineWidth(LINE * scale * 0.8)
    if shape.kind == "circle":
        canvas.circle(*pts[0], shape.width * scale, stroke=stroke, fill=fill)
        return
    path = canvas.beginPath()
    path.moveTo(*pts[0])
    if shape.kind in ("curve", "arrow"):
        (x0, y0), (cx, cy), (x1, y1) = pts  # a quadratic curve as reportlab's cubic
        c1 = (x0 + (cx - x0) * 2 / 3, y0 + (cy - y0) * 2 / 3)
        path.curveTo(*c1, x1 + (cx - x1) * 2 / 3, y1 + (cy - y1) * 2 / 3, x1, y1)
        if shape.kind == "arrow":
            _head_path(canvas, (cx, cy), (x1, y1), shape.width * scale)
        canvas.drawPath(path, stroke=1, fill=0)
        return
    for point in pts[1:]:
        path.lineTo(*point)
    if shape.kind == "poly":
        path.close()
        canvas.drawPath(path, stroke=stroke, fill=fill)
    else:
        canvas.drawPath(path, stroke=1, fill=0)


def _head_path(canvas, control: XY, tip: XY, width: float) -> None:
    dx, dy = tip[0] - control[0], tip[1] - control[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    size = width * 3.8
    base = (tip[0] - ux * size, tip[1] - uy * size)
    left = (base[0] - uy * size * 0.6, base[1] + ux * size * 0.6)
    right = (base[0] + uy * size * 0.6, base[1] - ux * size * 0.6)
    head = canvas.beginPath()
    head.moveTo(*tip)
    head.lineTo(*left)
    head.lineTo(*right)
    head.close()
    canvas.setFillColor(ARROW)
    canvas.drawPath(head, stroke=0, fill=1)


def draw_pose(
    pose: Pose,
    width: float,
    height: float,
    *,
    font: str = "Helvetica",
    labels: tuple[str, str] = ("Start", "End"),
    side: str | None = None,
    least: float | None = None,
) -> PoseDrawing:
    """Start and end frames side by side, as a ``width`` × ``height`` flowable (points). The
    drawing shows the left side working; for ``side="right"`` it is mirrored. ``least`` is the
    smallest print size the labels may take."""
    return PoseDrawing(pose, width, height, font, labels, mirror=side == "right", least=least)


# --- checks -------------------------------------------------------------------------------------

#: The prop that draws each piece of equipment.
EQUIPMENT_PROPS = {
    "resistance_band": "band",
    "foam_roller": "roller",
    "massage_ball": "ball",
    "step": "step",
    "chair": "chair",
    "wall": "wall",
    "mat": "mat",
    "exercise_bike": "bike",
}
MIN_MOVEMENT = 4.0  # body units: a fifth of a shin


def movement(pose: Pose) -> float:
    """How far the body moves from start to end: the largest shift of a joint or of the middle
    of the back, in body units, with the start placed by the point that stays put."""
    dx, dy = _offset(pose)
    start, end = skeleton(pose.start, pose.body_view), skeleton(pose.end, pose.body_view)
    start["spine"], end["spine"] = _spine_middle(pose.start, start), _spine_middle(pose.end, end)
    return max(math.hypot(end[k][0] - start[k][0] - dx, end[k][1] - start[k][1] - dy) for k in end)


def _spine_middle(frame: Frame, p) -> XY:
    (x0, y0), (x1, y1) = p["hip"], p["shoulder"]
    front = math.radians(face_angle(frame))
    bend = frame.spine * 0.35  # the curve passes half way to its control point
    return (x0 + x1) / 2 + bend * math.cos(front), (y0 + y1) / 2 + bend * math.sin(front)


def missing_props(pose: Pose, equipment) -> list[str]:
    """Equipment the exercise needs that a frame of its picture does not draw."""
    missing = []
    for which in ("start", "end"):
        tags = scene(pose, which).tags()
        for item in equipment:
            name = getattr(item, "value", item)
            if EQUIPMENT_PROPS.get(name, name) not in tags and name not in missing:
                missing.append(name)
    return missing

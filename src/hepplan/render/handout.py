"""The patient's handout laid out as PDF: the outline (``render/outline.py``) on paper.

Page one holds the main message, the safety box, what we found, the pain traffic light, the plan
at a glance and what you need. Each step starts on a new page; an exercise card, a checklist and
a log never split across pages; an exercise repeated in a later step is one line giving the page
of its card. Nothing decides what to say here: that is the outline's job.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
)

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.profile import Profile
from hepplan.render import outline as o
from hepplan.render.kit import (
    BLUE,
    BOLD,
    CARD_EDGE,
    FONT,
    GREY,
    INK,
    PALE_RED,
    RED,
    Styles,
    boxed,
    build_pdf,
    frame_width,
    para,
    styles,
    table_style,
    write_in,
)
from hepplan.words.catalog import words

PALE_BLUE = colors.HexColor("#E8F0F8")
LIGHTS = (
    colors.HexColor("#CDEBD6"),
    colors.HexColor("#FFE7A8"),
    colors.HexColor("#F6C4C4"),
)
RULE = colors.HexColor("#BBBBBB")


def render_handout(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> bytes:
    """The patient's program as PDF bytes. Only a prescribed decision can become a handout."""
    doc = o.handout_outline(profile, decision, clinic)
    s = styles(large_print)
    story = handout_story(doc, clinic, s)
    w = words(profile.patient.language)
    left = " · ".join(x for x in (clinic.name, doc.date) if x)

    def footer(number: int, total: int) -> tuple[str, str]:
        return left, w.say("common.page_of", number=number, total=total)

    return build_pdf(story, clinic, doc.title, footer, s)


def handout_story(doc: o.Handout, clinic: Clinic, s: Styles) -> list:
    """The handout's flowables, ready to build."""
    width = frame_width(clinic)
    story = first_page(doc, clinic, s, width)
    pages: dict[str, int] = {}
    for number, step in enumerate(doc.steps):
        story.append(PageBreak())
        last = number == len(doc.steps) - 1
        end = ending(doc, s, width) if last else []
        story += step_pages(step, doc, s, width, pages, after=_height(end, width))
        story += end
    return story


def _height(flowables: list, width: float) -> float:
    """How tall ``flowables`` are, stacked at ``width`` (what a box's contents keep together
    counts in full)."""
    total = 0.0
    for f in flowables:
        if isinstance(f, KeepTogether):
            total += _height(f._content, width)
        else:
            total += f.wrap(width, 1e6)[1] + f.getSpaceBefore() + f.getSpaceAfter()
    return total


# --- page one --------------------------------------------------------------------------------


def first_page(doc: o.Handout, clinic: Clinic, s: Styles, width: float) -> list:
    story = [*clinic_header(clinic, s, width), para(doc.title, s.title)]
    story.append(_details(doc.details, s, width))
    story.append(Spacer(1, 4))
    story.append(boxed([para(" ".join(doc.main), s.strong)], BLUE, PALE_BLUE, width, s))
    story.append(Spacer(1, 4))
    story.append(KeepTogether([safety_box(doc.safety, s, width)]))  # the box never splits
    found = [para(doc.found.title, s.h2), *(para(line, s.loose) for line in doc.found.items)]
    if doc.routine:
        found.append(para(doc.routine, s.strong))
    need = [para(doc.need.title, s.h2), *_bullets(doc.need.items, s)]
    glance = [para(doc.glance[0], s.h2), _glance(doc.glance, s, width)]
    pain = [para(doc.pain[0], s.h2), para(doc.pain[1], s.body)]
    pain.append(_traffic_light(doc.pain[2], s, width))
    hip = doc.protect_hip
    if s.large:  # what we found may start at the foot of page one and go on overleaf
        found[0] = para(doc.found.title, s.h2_flowing)
        room = CondPageBreak(s.h2.leading + s.size * 0.3 + 2 * s.body.leading)
        story += [room, *found, _hip(doc, s, width)]
        return [*story, *map(KeepTogether, (pain, glance, need))]
    both = _columns(need[1:], width, s)
    if hip is None:  # what you need beside what we found, or under it in two columns
        layouts = [[_Balanced([found, need], s)], [*found, need[0], *both]]
    else:  # the advice for the hip beside what we found
        box = [_Fit(lambda w: _titled_box(hip, BLUE, None, w, s))]
        layouts = [
            [_Balanced([found, need, box], s)],
            [_Balanced([found, box], s), need[0], *both],
            [_Balanced([found, [*need, Spacer(1, s.size * 0.4), *box]], s)],
        ]
    return [*story, _Shortest(layouts), KeepTogether(pain), KeepTogether(glance)]


class _Fit(Flowable):
    """A flowable made for the width it is given: a box inside a column."""

    def __init__(self, make: Callable[[float], Flowable]):
        super().__init__()
        self.make, self.made = make, None

    def wrap(self, availWidth, availHeight):
        self.made = self.make(availWidth)
        self.width, self.height = self.made.wrapOn(self.canv, availWidth, availHeight)
        return self.width, self.height

    def draw(self) -> None:
        self.made.drawOn(self.canv, 0, 0)


class _Shortest(Flowable):
    """The shortest of several ways to lay out the same content, stacked."""

    def __init__(self, layouts: list[list]):
        super().__init__()
        self.layouts, self.chosen = layouts, layouts[0]

    def _stack(self, flowables: list, width: float) -> float:
        return sum(f.wrapOn(self.canv, width, 1e6)[1] + f.getSpaceAfter() for f in flowables)

    def wrap(self, availWidth, availHeight):
        self.chosen = min(self.layouts, key=lambda layout: self._stack(layout, availWidth))
        self.width, self.height = availWidth, self._stack(self.chosen, availWidth)
        return self.width, self.height

    def draw(self) -> None:
        y = self.height
        for f in self.chosen:
            _, h = f.wrapOn(self.canv, self.width, 1e6)
            y -= h
            f.drawOn(self.canv, 0, y)
            y -= f.getSpaceAfter()


def _hip(doc: o.Handout, s: Styles, width: float):
    """The "protect your hip" advice of a GTPS handout in large print, marked by a bar at its
    left (a box's padding would cost a line), or nothing."""
    box = doc.protect_hip
    if box is None:
        return Spacer(0, 0)
    table = Table([[f] for f in (para(box.title, s.h2), *_bullets(box.items, s))], [width])
    table.setStyle(
        table_style(
            [
                ("LINEBEFORE", (0, 0), (0, -1), 3, BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), s.size * 0.5),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


#: How the width may be shared between two or three columns, in order of preference.
SHARES = {
    2: tuple((x, 1 - x) for x in (0.5, 0.55, 0.6, 0.65, 0.7, 0.45, 0.4)),
    3: (
        (0.36, 0.28, 0.36),
        (0.4, 0.28, 0.32),
        (0.34, 0.3, 0.36),
        (0.3, 0.36, 0.34),
        (0.3, 0.4, 0.3),
    ),
}


class _Balanced(Flowable):
    """Columns side by side (what we found, what you need, the advice for a hip), the width
    shared so that the tallest column is as short as it can be. Each column's flowables are
    made for the width it gets."""

    def __init__(self, columns: list[list], s: Styles):
        super().__init__()
        self.columns, self.s = columns, s
        self.table = None

    def _layout(self, shares, width: float):
        widths = [width * share for share in shares]
        inner = [w - (self.s.size if n < len(widths) - 1 else 0) for n, w in enumerate(widths)]
        tallest = max(
            sum(f.wrapOn(self.canv, w, 1e6)[1] + f.getSpaceAfter() for f in cell)
            for cell, w in zip(self.columns, inner, strict=True)
        )
        return tallest, widths

    def wrap(self, availWidth, availHeight):
        layouts = [self._layout(shares, availWidth) for shares in SHARES[len(self.columns)]]
        _, widths = min(layouts, key=lambda layout: layout[0])
        self.table = _side_by_side(self.columns, widths, self.s)
        self.width, self.height = self.table.wrapOn(self.canv, availWidth, availHeight)
        return self.width, self.height

    def draw(self) -> None:
        self.table.drawOn(self.canv, 0, 0)


def _side_by_side(cells: list, widths: list, s: Styles) -> Table:
    """Columns side by side, a gutter between each two."""
    table = Table([cells], colWidths=widths)
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), s.size),
                ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def clinic_header(clinic: Clinic, s: Styles, width: float) -> list:
    contact = " · ".join(x for x in (clinic.phone, clinic.email, clinic.website) if x)
    where = " · ".join(x for x in (clinic.name, clinic.address) if x)
    lines = [para(x, s.small) for x in (where, contact) if x]
    if clinic.logo is None:
        return lines
    from reportlab.platypus import Image

    # the bytes read and decoded with the clinic file: the file is not opened a second time
    logo = Image(io.BytesIO(clinic.logo_data) if clinic.logo_data else str(clinic.logo))
    height = 16 * mm
    logo.drawWidth, logo.drawHeight = logo.imageWidth * height / logo.imageHeight, height
    logo.hAlign = "LEFT"
    if not lines:
        return [logo]
    table = Table([[logo, lines]], colWidths=[logo.drawWidth + 6, None], hAlign="LEFT")
    table.setStyle(
        table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return [table]


def _details(rows, s: Styles, width: float) -> Table:
    """Who the plan is for, the date, the therapist, the side and the next visit, two to a row
    when each fits on one line; a name too long for half the width has a line of its own (in
    large print the rows are often one to a row)."""
    gap = s.size * 0.6
    label = max(stringWidth(key, FONT, s.least) for key, _ in rows) + gap
    value = max(stringWidth(value, BOLD, s.size) for _, value in rows[1:]) + gap
    cells = [[para(key, s.small), para(value, s.strong)] for key, value in rows]
    half = width / 2
    if 2 * (label + value) > width:
        grid, widths, spans = cells, [label, width - label], []
    else:
        alone = label + stringWidth(rows[0][1], BOLD, s.size) + gap > half
        first, rest = ([cells[0] + ["", ""]], cells[1:]) if alone else ([], cells)
        rest = rest + ([["", ""]] if len(rest) % 2 else [])
        grid = first + [rest[i] + rest[i + 1] for i in range(0, len(rest), 2)]
        widths = [label, half - label, label, half - label]
        spans = [("SPAN", (1, 0), (3, 0))] if alone else []
    table = Table(grid, colWidths=widths, hAlign="LEFT")
    table.setStyle(
        table_style(
            [
                *spans,
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#DDDDDD")),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _titled_box(box: o.Box, edge, fill, width: float, s: Styles) -> Table:
    return boxed([para(box.title, s.h2), *_bullets(box.items, s)], edge, fill, width, s)


def safety_box(safety: o.Safety, s: Styles, width: float) -> Table:
    """The emergency signs, what to do, where and how fast, and the clinic's phone."""
    rows = [para(safety.title, s.h2), *_columns(_bullets(safety.signs, s), width - s.size * 1.2, s)]
    rows.append(para(safety.action, s.strong))
    if safety.write_in:
        rows.append(write_in(safety.phone, s, width - s.size * 1.2))
    else:
        rows.append(para(safety.phone, s.body))
    return boxed(rows, RED, PALE_RED, width, s)


def _traffic_light(rows, s: Styles, width: float) -> Table:
    if not s.large:  # three lights side by side
        table = Table(
            [[para(f"{name}: {text}", s.body) for name, text in rows]],
            colWidths=[width * 0.22, width * 0.39, width * 0.39],
        )
        commands = [("GRID", (0, 0), (-1, -1), 0.5, GREY), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        commands += [("BACKGROUND", (i, 0), (i, 0), LIGHTS[i]) for i in range(3)]
        table.setStyle(table_style(commands))
        return table
    label = s.size * 6
    table = Table(
        [[para(name, s.strong), para(words_, s.body)] for name, words_ in rows],
        colWidths=[label, width - label],
    )
    commands = [("GRID", (0, 0), (-1, -1), 0.5, GREY), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    commands += [("BACKGROUND", (0, i), (0, i), LIGHTS[i]) for i in range(3)]
    table.setStyle(table_style(commands))
    return table


def _glance(glance, s: Styles, width: float) -> Table:
    """A row a step: its name, its weeks and minutes, its exercises. The first two columns are
    as wide as their longest line (at most a quarter of the width each), the exercises get the
    rest. Large print leaves out the minutes, which are on each step's own page."""
    _, header, rows = glance
    if s.large:
        rows = [(step, when.splitlines()[0], names) for step, when, names in rows]
    data = [[para(cell, s.small) for cell in header]]
    data += [[para(cell, s.small) for cell in row] for row in rows]
    pad = 3
    first, weeks = (_widest([row[n] for row in rows], s, width / 4) + 2 * pad for n in (0, 1))
    table = Table(data, colWidths=[first, weeks, width - first - weeks], repeatRows=1)
    table.setStyle(
        table_style(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, 0), PALE_BLUE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), pad),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad),
            ]
        )
    )
    return table


def _widest(cells, s: Styles, most: float) -> float:
    """The width of the longest line in ``cells`` at the small size, but no more than ``most``."""
    lines = [line for cell in cells for line in cell.split("\n")]
    return min(most, max(stringWidth(line, FONT, s.least) for line in lines) + 1)


def _columns(flowables: list, width: float, s: Styles) -> list:
    """Short items in two columns (one column in large print), as a list of flowables."""
    if s.large or len(flowables) < 2:
        return flowables
    half = (len(flowables) + 1) // 2
    left, right = flowables[:half], flowables[half:]
    table = Table([[left, right]], colWidths=[width / 2, width / 2])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [table]


def _bullets(items, s: Styles) -> list:
    return [para(item, s.bullet, bullet="•") for item in items]


# --- a step ------------------------------------------------------------------------------------


def step_pages(
    step: o.Step, doc: o.Handout, s: Styles, width: float, pages: dict, after: float = 0.0
) -> list:
    """The step's band, its cards, the lines of earlier exercises, the checklist, the log;
    ``after`` is how tall what follows the log is (the last step's note and recap)."""
    cards = [Card(card, doc.labels, s, width, pages) for card in step.cards]
    gap = 3
    # the band never stands alone at a page's foot: it goes with the step's first card
    story: list = [KeepTogether([_band(step, s, width), Spacer(1, gap), *cards[:1]])]
    for card in cards[1:]:
        story += [Spacer(1, gap), card]
    if step.again:
        lines = [para(step.again_title, s.h2)]
        lines += [_AgainLine(again, s, pages) for again in step.again]
        story.append(KeepTogether(lines))
    checklist = [para(step.check_title, s.h2)]
    checklist += [para(line, s.check, bullet="☐") for line in step.checklist]
    checklist.append(para(step.after_check, s.strong))
    story.append(KeepTogether(checklist))
    story.append(KeepTogether(_log(step, s, width, after)))
    return story


def _band(step: o.Step, s: Styles, width: float) -> Table:
    band = Table(
        [
            [para(step.title, s.banner)],
            [para(step.line, s.banner_small)],
            [para(step.goal, s.banner_small)],
        ],
        colWidths=[width],
    )
    band.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("TOPPADDING", (0, 0), (-1, 0), 4),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 4),
            ]
        )
    )
    return band


def _log(step: o.Step, s: Styles, width: float, after: float = 0.0) -> list:
    """The step's log under its title and how to fill it in."""
    return [para(step.log_title, s.h2), para(step.log_how, s.body), _Log(step, s, width, after)]


class _Log(Flowable):
    """A row a week: a box a day to tick, and room to write the day's pain. Rows are as tall
    as the room left on the page allows, between a size easy to write in and a roomier one,
    leaving room for what follows (``after``) when that can share the page. In normal print
    the pain goes beside the box; in large print, under it."""

    def __init__(self, step: o.Step, s: Styles, width: float, after: float = 0.0):
        super().__init__()
        self.step, self.s, self.width, self.after = step, s, width, after
        self.label = s.size * (4.2 if s.large else 5)
        self.head = s.least * 1.8
        self.low, self.high = s.size * (1.8 if s.large else 1.6), s.size * 2.3

    def wrap(self, availWidth, availHeight):
        rows = len(self.step.log_weeks)
        room = availHeight - self.head - 1
        if room - self.after >= self.low * rows:  # what follows fits below it: leave its room
            room -= self.after
        fit = room / rows
        self.row = min(self.high, max(self.low, fit))
        self.height = self.head + self.row * rows
        return self.width, self.height

    def draw(self) -> None:
        c, s = self.canv, self.s
        day = self.day = (self.width - self.label) / 7
        c.saveState()
        c.setFillColor(PALE_BLUE)
        c.rect(0, self.height - self.head, self.width, self.head, stroke=0, fill=1)
        c.setStrokeColor(GREY)
        c.setLineWidth(0.6)
        c.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        c.setFont(FONT, s.least)
        c.setFillColor(INK)
        base = self.height - self.head + (self.head - s.least) / 2 + 1
        for n, name in enumerate(self.step.log_days):
            x = self.label + n * day
            c.line(x, 0, x, self.height)
            c.drawString(x + 3, base, name)
        for n, week in enumerate(self.step.log_weeks):
            top = self.height - self.head - n * self.row
            c.line(0, top, self.width, top)
            c.setFillColor(INK)
            c.drawString(3, top - self.row / 2 - s.least / 3, week)
            for d in range(7):
                self._day(self.label + d * day + 3, top - self.row)
        c.restoreState()

    def _day(self, x: float, bottom: float) -> None:
        """A day's box to tick, and "pain" with a line to write the number on."""
        c, s = self.canv, self.s
        box, right = s.size * 0.75, x + self.day - 6
        c.setFillColor(GREY)
        if s.large:  # the box at the top, the pain under it
            c.rect(x, bottom + self.row - box - 3, box, box, stroke=1, fill=0)
            base, start = bottom + 3, x
        else:
            middle = bottom + self.row / 2
            c.rect(x, middle - box / 2, box, box, stroke=1, fill=0)
            base, start = middle - s.least / 3, x + box + 3
        c.drawString(start, base, self.step.log_pain)
        line = start + stringWidth(self.step.log_pain, FONT, s.least) + 2
        c.line(line, base - 1, right, base - 1)


class _AgainLine(Flowable):
    """An exercise shown in an earlier step: its new dose and the page of its card, which is
    known by the time this line is laid out (each step starts on a new page)."""

    def __init__(self, again: o.Again, s: Styles, pages: dict):
        super().__init__()
        self.again, self.s, self.pages = again, s, pages
        self._para = None

    def _paragraph(self):
        if self._para is None:
            page = str(self.pages.get(self.again.id, ""))
            self._para = para(self.again.text.replace(o.PAGE, page), self.s.bullet, bullet="•")
        return self._para

    def wrap(self, availWidth, availHeight):
        self.width, self.height = self._paragraph().wrap(availWidth, availHeight)
        return self.width, self.height

    def getSpaceAfter(self):
        return self._paragraph().getSpaceAfter()

    def draw(self) -> None:
        self._paragraph().drawOn(self.canv, 0, 0)


class Card(Flowable):
    """An exercise card that never splits: the picture at the top left, the name, dose and side
    beside it, then the numbered steps, "you should feel", "stop if" and why, each paragraph as
    wide as the space beside or below the picture allows.

    A card that would just miss the room left on a page draws its picture a little smaller
    (down to ``SCALES[-1]`` of its size) rather than leave the room empty; at the top of a page
    it has its full size. Only a card taller than a whole page (a library's very long exercise
    in large print) is continued on the next page rather than cut off."""

    PAD = 5
    SCALES = (1.0, 0.9, 0.8)

    def __init__(self, card: o.Card, labels, s: Styles, width: float, pages: dict, *, part=None):
        super().__init__()
        self.card, self.s, self.width, self.pages = card, s, width, pages
        self.labels, self._pictures = labels, {}
        if part is None:
            self.picture = self._picture(1.0)
            self.words = self._words()
        else:
            self.picture, self.words = part

    def _picture(self, scale: float):
        if scale not in self._pictures:
            c = self.card
            made = picture(c.pose, self.s, self.width, c.picture_side, self.labels, scale)
            self._pictures[scale] = made
        return self._pictures[scale]

    def _words(self) -> list:
        c, s = self.card, self.s
        words = [para(c.name, s.card_title), para(_joined(c.dose, c.side), s.strong)]
        if c.note:
            words.append(para(c.note, s.body))
        words += [para(step, s.step, bullet=str(n)) for n, step in enumerate(c.steps, 1)]
        words += [para(c.feel, s.body), para(c.stop_if, s.stop), para(c.why, s.body)]
        return words

    def wrap(self, availWidth, availHeight):
        if not self._pictures:  # the rest of a card continued from the page before
            return self._layout()
        for scale in self.SCALES:
            self.picture = self._picture(scale)
            if self._layout()[1] <= availHeight:
                return self.width, self.height
        self.picture = self._picture(1.0)  # it moves on to a new page, at its full size
        return self._layout()

    def _layout(self) -> tuple[float, float]:
        pic_w, pic_h = self.picture.wrapOn(self.canv, self.width, 1e6) if self.picture else (0, 0)
        beside = self.width - pic_w - 3 * self.PAD
        self._placed, y = [], 0.0
        for flowable in self.words:
            narrow = y < pic_h and beside > self.s.size * 9
            x = pic_w + 2 * self.PAD if narrow else self.PAD
            if not narrow and y < pic_h:
                y = pic_h + self.PAD  # below the picture
            w = beside if narrow else self.width - 2 * self.PAD
            h = flowable.wrapOn(self.canv, w, 1e6)[1] + flowable.getSpaceAfter()
            self._placed.append((flowable, x, y, h))
            y += h
        self.height = max(pic_h, y) + 2 * self.PAD
        return self.width, self.height

    def split(self, availWidth, availHeight):
        """Nothing on a page that has other content (the card moves on whole); a card taller
        than a whole page is continued, at a paragraph boundary."""
        self.wrap(availWidth, availHeight)
        if self.height <= availHeight or availHeight < self.s.page_height or len(self.words) < 2:
            return []  # moves on whole, to a fresh page
        fits = [f for f, _, y, h in self._placed if y + h + 2 * self.PAD <= availHeight]
        keep = max(1, len(fits))
        first = Card(
            self.card, None, self.s, self.width, self.pages, part=(self.picture, self.words[:keep])
        )
        rest = Card(self.card, None, self.s, self.width, self.pages, part=(None, self.words[keep:]))
        return [first, rest]

    def draw(self) -> None:
        canvas = self.canv
        self.pages.setdefault(self.card.id, canvas.getPageNumber())
        canvas.saveState()
        canvas.setStrokeColor(CARD_EDGE)
        canvas.setLineWidth(1)
        canvas.roundRect(0, 0, self.width, self.height, 4, stroke=1, fill=0)
        canvas.restoreState()
        top = self.height - self.PAD
        if self.picture:
            self.picture.drawOn(canvas, self.PAD, top - self.picture.height)
        for flowable, x, y, h in self._placed:
            flowable.drawOn(canvas, x, top - y - h + flowable.getSpaceAfter())


def _joined(*sentences: str | None) -> str:
    return " ".join(x for x in sentences if x)


def picture(
    pose, s: Styles, width: float, side: str | None = None, labels=("Start", "End"), scale=1.0
):
    """The pose beside the card's first words, mirrored when the patient's side is the right,
    at ``scale`` of its usual size."""
    from hepplan.render.drawing import draw_pose

    w, h = (width - 2 * Card.PAD, width * 0.21) if s.large else (width * 0.36, width * 0.166)
    return draw_pose(
        pose, w * scale, h * scale, font="DejaVuSans", side=side, labels=labels, least=s.least
    )


# --- the end -----------------------------------------------------------------------------------


def ending(doc: o.Handout, s: Styles, width: float) -> list:
    """The therapist's note and the three-point recap, after the last step's log."""
    story: list = []
    if doc.note:
        story.append(KeepTogether([para(doc.note.title, s.h2), para(doc.note.items[0], s.body)]))
    story.append(Spacer(1, s.size * 0.3))
    recap = [para(doc.recap.title, s.h2)]
    recap += [para(item, s.step, bullet=str(n)) for n, item in enumerate(doc.recap.items, 1)]
    story.append(KeepTogether(boxed(recap, BLUE, PALE_BLUE, width, s)))
    return story

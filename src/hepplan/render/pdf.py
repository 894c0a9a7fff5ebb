"""PDF documents: the patient handout (prescribed) and the redirect to medical care (refused).

Renderers take a finished ``Decision`` and return bytes; they never look anything up. Every piece
of text enters a paragraph through ``_p``, which escapes it, so a name like ``<b>Ann & Bo</b>``
prints literally. Output is deterministic: reportlab's invariant mode, dates from the profile.
"""

from __future__ import annotations

import functools
import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from hepplan.domain import redflags
from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision, Prescription
from hepplan.domain.profile import Profile
from hepplan.domain.redflags import Level
from hepplan.io.resources import font_path
from hepplan.words import text

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
RED = colors.HexColor("#B00020")
AMBER = colors.HexColor("#B26A00")
GREEN = colors.HexColor("#1B7F3B")
INK = colors.HexColor("#1A1A1A")
GREY = colors.HexColor("#555555")
BLUE = colors.HexColor("#1F4E79")
CARD_EDGE = colors.HexColor("#B8C4D0")
PALE_RED = colors.HexColor("#FDECEC")
PALE_AMBER = colors.HexColor("#FFF4E0")


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(font_path("DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(font_path("DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


class Styles:
    """Every paragraph style, from one base size (11 pt, or 16 pt for large print)."""

    def __init__(self, large: bool = False):
        _register_fonts()  # paragraphs resolve their fonts as they are made
        size = 16 if large else 11
        lead = size * 1.35
        self.size = size
        self.body = ParagraphStyle(
            "body",
            fontName=FONT,
            bulletFontName=FONT,
            fontSize=size,
            leading=lead,
            textColor=INK,
            spaceAfter=size * 0.4,
        )
        self.small = ParagraphStyle(
            "small", parent=self.body, fontSize=size - 2, leading=(size - 2) * 1.3, textColor=GREY
        )
        self.title = ParagraphStyle(
            "title",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 9,
            leading=(size + 9) * 1.2,
            spaceAfter=size * 0.5,
        )
        self._headings(size)
        self._lists_and_banners(size)

    def _headings(self, size: float) -> None:
        self.h1 = ParagraphStyle(
            "h1",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 5,
            leading=(size + 5) * 1.25,
            spaceBefore=size * 0.8,
            spaceAfter=size * 0.4,
            keepWithNext=1,
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 2,
            leading=(size + 2) * 1.25,
            spaceBefore=size * 0.6,
            spaceAfter=size * 0.2,
            keepWithNext=1,
        )
        self.strong = ParagraphStyle("strong", parent=self.body, fontName=BOLD)

    def _lists_and_banners(self, size: float) -> None:
        self.action = ParagraphStyle(
            "action",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 15,
            leading=(size + 15) * 1.2,
            alignment=TA_CENTER,
            textColor=colors.white,
        )
        self.banner = ParagraphStyle(
            "banner",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 5,
            leading=(size + 5) * 1.25,
            textColor=colors.white,
            spaceAfter=0,
        )
        self.banner_small = ParagraphStyle(
            "banner_small", parent=self.body, textColor=colors.white, spaceAfter=0
        )
        self.stop = ParagraphStyle("stop", parent=self.body, textColor=RED)
        self.bullet = ParagraphStyle(
            "bullet",
            parent=self.body,
            leftIndent=size * 1.3,
            bulletIndent=size * 0.2,
            spaceAfter=size * 0.2,
        )
        self.step = ParagraphStyle(
            "step",
            parent=self.body,
            leftIndent=size * 1.6,
            bulletIndent=0,
            bulletFontName=BOLD,
            spaceAfter=size * 0.25,
        )
        self.big_number = ParagraphStyle(
            "big_number", parent=self.action, fontSize=size + 9, leading=(size + 9) * 1.25
        )


@functools.lru_cache(maxsize=2)
def styles(large_print: bool) -> Styles:
    """One set of styles per size for the whole process, so layouts can be shared."""
    return Styles(large_print)


def _style(commands: list) -> TableStyle:
    """A table style whose plain cells use the embedded font too (never a standard font)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), FONT), *commands])


#: Layouts shared by every handout a process renders: the same step of the same exercise, the
#: safety box and the headings are parsed and broken into lines once, not once per handout.
#: Keyed by (markup, style, bullet) and width; bounded, so a long batch cannot grow it forever.
_PARSED: dict[tuple, list] = {}
_WRAPPED: dict[tuple, tuple] = {}
_CACHE_LIMIT = 20_000


class _Paragraph(Paragraph):
    """A paragraph that remembers its line breaks for a width. Tables and page-end splitting
    wrap the same cell several times, and many handouts share most of their text; breaking
    the lines once per text, style and width saves most of the work."""

    _key: tuple | None = None

    def wrap(self, availWidth, availHeight):
        key = (self._key, availWidth) if self._key is not None else None
        cached = self.__dict__.get("_wrapped") or (key and _WRAPPED.get(key))
        if cached is not None and cached[0] == availWidth:
            _, self.width, self._wrapWidths, self.blPara, self.height = cached
            return self.width, self.height
        result = super().wrap(availWidth, availHeight)
        if availWidth >= 1e-3:
            self._wrapped = (availWidth, self.width, self._wrapWidths, self.blPara, self.height)
            if key is not None:
                if len(_WRAPPED) >= _CACHE_LIMIT:
                    _WRAPPED.clear()
                _WRAPPED[key] = self._wrapped
        return result


def _p(value: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    """A paragraph of literal text: user and template text is escaped, never interpreted."""
    markup = escape(value).replace("\n", "<br/>")
    key = (markup, style, bullet)  # the style itself: its id could be reused once it is gone
    frags = _PARSED.get(key)
    if frags is None:
        paragraph = _Paragraph(markup, style, bulletText=bullet)
        if paragraph.style is style:  # parsing did not derive a new style: safe to share
            if len(_PARSED) >= _CACHE_LIMIT:
                _PARSED.clear()
                _WRAPPED.clear()
            _PARSED[key] = paragraph.frags
            paragraph._key = key
        return paragraph
    paragraph = _Paragraph(markup, style, bulletText=bullet, frags=frags)
    paragraph._key = key
    return paragraph


def _page_size(clinic: Clinic):
    return A4 if clinic.page_size == "a4" else LETTER


class _NumberedCanvas(pdfcanvas.Canvas):
    """Draws the footer on every page once the page count is known ("page x of y")."""

    footer: tuple[str, str] = ("", "")

    def __init__(self, *args, **kwargs):
        kwargs["initialFontName"] = FONT  # no unembedded standard font on any page
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _ = self._pagesize
        left, right = self.footer
        self.setFont(FONT, 8)
        self.setFillColor(GREY)
        self.drawString(15 * mm, 10 * mm, left)
        page = f"page {number} of {total}"
        self.drawRightString(width - 15 * mm, 10 * mm, f"{right}   {page}" if right else page)


#: The page's side margins; the frame every story is laid out in is the page less both.
MARGIN = 18 * mm


def frame_width(clinic: Clinic) -> float:
    """The width a story is laid out in on the clinic's paper."""
    return _page_size(clinic)[0] - 2 * MARGIN


def build_pdf(story: list, clinic: Clinic, title: str, footer: tuple[str, str]) -> bytes:
    _register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=_page_size(clinic),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=clinic.name or "hepplan",
        subject="",
        creator="hepplan",
        producer="hepplan",
        keywords="",
        invariant=1,
    )

    class Canvas(_NumberedCanvas):
        pass

    Canvas.footer = footer
    doc.build(story, canvasmaker=Canvas)
    return buffer.getvalue()


def _clinic_lines(clinic: Clinic) -> list[str]:
    lines = [clinic.name, clinic.address]
    contact = " · ".join(
        x for x in (clinic.phone and f"Phone {clinic.phone}", clinic.email, clinic.website) if x
    )
    lines.append(contact)
    return [line for line in lines if line]


def _footer(profile: Profile, decision: Decision, clinic: Clinic) -> tuple[str, str]:
    left = " · ".join(x for x in (clinic.name, profile.assessment.date.isoformat()) if x)
    # Only what this document is made of, so its bytes change only when that does.
    return left, (f"content {decision.content_version}" if decision.prescribed else "")


# --- the handout ----------------------------------------------------------------------------


def render_document(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> bytes | None:
    """The one way to a patient's document, for every command and every batch worker: the
    handout (prescribed) or the redirect (refused); nothing for an incomplete screening."""
    if decision.prescribed:
        return render_handout(profile, decision, clinic, large_print=large_print)
    if decision.refused:
        return render_redirect(profile, decision, clinic, large_print=large_print)
    return None


def render_handout(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> bytes:
    """The patient's program as PDF bytes. Only a prescribed decision can become a handout."""
    story = handout_story(profile, decision, clinic, large_print=large_print)
    return build_pdf(story, clinic, "Home exercise program", _footer(profile, decision, clinic))


def handout_story(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> list:
    """The handout's flowables, ready to build."""
    if not decision.prescribed or not decision.phases:
        raise ValueError("only a prescribed decision can be rendered as a handout")
    s = styles(large_print)
    width = frame_width(clinic)
    a = profile.assessment
    story: list = [*_clinic_header(clinic, s, width)]
    story.append(_p("Your home exercise program", s.title))
    details = [
        ("For", profile.patient.name),
        ("Date", a.date.isoformat()),
        ("Physical therapist", a.clinician),
        ("Painful side", _side_name(a.side.value)),
    ]
    story.append(_key_values(details, s, width))
    story.append(Spacer(1, s.size * 0.6))
    story.append(_safety_box(clinic, s))

    story.append(_p("What we found", s.h1))
    for sentence in _found(profile):
        story.append(_p(sentence, s.body))
    if any(c.value == "gtps" for c in a.conditions):
        story.append(_protect_hip_box(s))
    if decision.see_doctor_about:
        concerns = "; ".join(
            redflags.BY_KEY[k].told(profile.red_flags.answer(k).value).rstrip(".")
            for k in decision.triggered
            if profile.red_flags.positive(k)
        )
        story.append(_p(text.block("handout.j2", "routine_check", concerns=concerns), s.strong))
    if profile.plan.notes:
        story.append(_p("A note from your physical therapist", s.h2))
        story.append(_p(profile.plan.notes, s.body))

    story.append(KeepTogether([_p("How much pain is OK?", s.h1), _traffic_light(clinic, s)]))
    story.append(
        KeepTogether([_p("Your program at a glance", s.h1), _overview(decision, s, width)])
    )

    for phase in decision.phases:
        story.append(PageBreak())
        story += _phase_section(phase, a.side.value, s, width, len(decision.phases))

    story.append(PageBreak())
    story += _clinician_page(profile, decision, clinic, s)
    return story


def _found(profile: Profile) -> list[str]:
    a = profile.assessment
    weak = [
        name
        for name, grade in (
            ("the side of your hip", a.glute_strength.medius),
            ("your buttock", a.glute_strength.maximus),
        )
        if grade is not None and grade < 5
    ]
    sentences = [
        text.block("handout.j2", "found_piriformis", piriformis=a.piriformis.value),
        text.block("handout.j2", "found_nerve", radicular=a.radicular_level.value),
        text.block("handout.j2", "found_strength", weak=" and ".join(weak)) if weak else "",
        text.block("handout.j2", "found_plan"),
    ]
    return [sentence for sentence in sentences if sentence]


def _key_values(rows, s: Styles, width: float) -> Table:
    table = Table(
        [[_p(key, s.small), _p(value, s.strong)] for key, value in rows],
        colWidths=[s.size * 11, width - s.size * 11],
        hAlign="LEFT",
    )
    table.setStyle(
        _style(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#DDDDDD")),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _overview(decision: Decision, s: Styles, width: float) -> Table:
    rows = [
        [
            _p("Step", s.strong),
            _p("Weeks", s.strong),
            _p("Exercises", s.strong),
            _p("Each day", s.strong),
        ]
    ]
    for phase in decision.phases:
        names = [item.name for item in phase.exercises] + [phase.aerobic.name]
        rows.append(
            [
                _p(f"{phase.number}. {phase.name}", s.body),
                _p(f"{phase.weeks[0]} to {phase.weeks[1]}", s.body),
                _p(", ".join(names), s.body),
                _p(f"about {phase.minutes_per_day} minutes", s.body),
            ]
        )
    first, weeks, last = width * 0.26, max(width * 0.13, s.size * 5.5), width * 0.17
    table = Table(rows, colWidths=[first, weeks, width - first - weeks - last, last], repeatRows=1)
    table.setStyle(
        _style(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#BBBBBB")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF2F6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _phase_section(phase, painful: str, s: Styles, width: float, total: int) -> list:
    start, end = phase.weeks
    band = Table(
        [
            [_p(f"Step {phase.number} of {total}: {phase.name}", s.banner)],
            [
                _p(
                    f"Weeks {start} to {end} · about {phase.minutes_per_day} minutes a day",
                    s.banner_small,
                )
            ],
        ],
        colWidths=[width],
    )
    band.setStyle(
        _style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    parts: list = [band, Spacer(1, s.size * 0.4), _p(f"Goal: {phase.goal}", s.strong)]
    for item in (*phase.exercises, phase.aerobic):
        parts.append(Spacer(1, s.size * 0.5))
        parts += _exercise_card(item, painful, s, width)
    last = phase.number == total
    parts.append(
        _p(
            "You are doing well when:" if last else f"Move on to Step {phase.number + 1} when:",
            s.h2,
        )
    )
    parts += [_p(f"☐  {line}", s.body) for line in phase.progress_when]
    parts.append(KeepTogether(_log(phase, s, width)))
    return parts


def _log(phase, s: Styles, width: float) -> list:
    start, end = phase.weeks
    days = [f"Day {n}" for n in range(1, 8)]
    rows = [["", *days]] + [[f"Week {week}", *[""] * 7] for week in range(start + 1, end + 1)]
    label = s.size * 5.5
    table = Table(
        [[_p(cell, s.small) if cell else "" for cell in row] for row in rows],
        colWidths=[label] + [(width - label) / 7] * 7,
        rowHeights=[s.size * 1.8] + [s.size * 2.2] * (len(rows) - 1),
    )
    table.setStyle(
        _style(
            [
                ("GRID", (0, 0), (-1, -1), 0.6, GREY),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF2F6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return [
        _p(f"Your log for Step {phase.number}: tick a box each day you do your exercises", s.h2),
        table,
    ]


def _side_name(side: str) -> str:
    return "both sides" if side == "both" else side


def _clinic_header(clinic: Clinic, s: Styles, width: float | None = None) -> list:
    lines = [_p(line, s.small) for line in _clinic_lines(clinic)]
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
        _style([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return [table]


#: The emergency signs on every handout, in the patient's words (CLINICAL.md §1 and §3).


def _safety_box(clinic: Clinic, s: Styles) -> Table:
    signs = text.SAFETY_SIGNS
    rows = [
        [_p(text.block("handout.j2", "safety_title"), s.h2)],
        [_p(text.block("handout.j2", "safety_intro"), s.body)],
        [_bullets(signs, s)],
        [
            _p(
                text.block("handout.j2", "safety_action", emergency_number=clinic.emergency_number),
                s.strong,
            )
        ],
    ]
    if clinic.phone:
        rows.append([_p(f"For other worries, call the clinic: {clinic.phone}", s.body)])
    table = Table(rows, colWidths=["100%"])
    table.setStyle(
        _style(
            [
                ("BOX", (0, 0), (-1, -1), 2, RED),
                ("BACKGROUND", (0, 0), (-1, -1), PALE_RED),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _protect_hip_box(s: Styles) -> Table:
    """GTPS (CLINICAL.md §2): the daily habits that keep weight off the gluteal tendons."""
    rows = [
        [_p(text.block("handout.j2", "protect_hip_title"), s.h2)],
        [_p(text.block("handout.j2", "protect_hip_intro"), s.body)],
        [_bullets(text.PROTECT_HIP, s)],
    ]
    table = Table(rows, colWidths=["100%"])
    table.setStyle(
        _style(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return KeepTogether([Spacer(1, s.size * 0.4), table])


def _traffic_light(clinic: Clinic, s: Styles) -> Table:
    bands = clinic.pain_bands
    ctx = dict(green_max=bands.green_max, amber_max=bands.amber_max)
    rows = [
        [_p("GREEN", s.strong), _p(text.block("handout.j2", "pain_green", **ctx), s.body)],
        [_p("AMBER", s.strong), _p(text.block("handout.j2", "pain_amber", **ctx), s.body)],
        [_p("RED", s.strong), _p(text.block("handout.j2", "pain_red", **ctx), s.body)],
    ]
    table = Table(rows, colWidths=[s.size * 6, None])
    table.setStyle(
        _style(
            [
                ("BACKGROUND", (0, 0), (0, 0), colors.HexColor("#D8F0DF")),
                ("BACKGROUND", (0, 1), (0, 1), colors.HexColor("#FFE9C2")),
                ("BACKGROUND", (0, 2), (0, 2), colors.HexColor("#F9D0D0")),
                ("GRID", (0, 0), (-1, -1), 0.5, GREY),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _bullets(items, s: Styles) -> list:
    return [_p(item, s.bullet, bullet="•") for item in items]


class _Card(Flowable):
    """An exercise card: a box with the picture on the left and the words on the right.

    Drawn directly rather than as a table: a handout holds a dozen cards, and a table wraps
    each cell more than once."""

    PAD = 6

    def __init__(self, picture, words: list, width: float):
        super().__init__()
        self.picture, self.words, self.width = picture, words, width
        self.pic_w = width * 0.38

    def wrap(self, availWidth, availHeight):
        text_w = self.width - self.pic_w - 2 * self.PAD
        self._heights = [
            w.wrapOn(self.canv, text_w, availHeight)[1] + w.getSpaceAfter() for w in self.words
        ]
        pic_h = self.picture.wrapOn(self.canv, self.pic_w, availHeight)[1] if self.picture else 0
        self.height = max(pic_h, sum(self._heights)) + 2 * self.PAD
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(CARD_EDGE)
        canvas.setLineWidth(0.8)
        canvas.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        canvas.restoreState()
        top = self.height - self.PAD
        if self.picture:
            self.picture.drawOn(canvas, self.PAD, top - self.picture.height)
        y = top
        for flowable, height in zip(self.words, self._heights, strict=False):
            y -= height
            flowable.drawOn(canvas, self.pic_w + self.PAD, y + flowable.getSpaceAfter())


def _exercise_card(item: Prescription, painful: str, s: Styles, width: float):
    """The picture, then (beside it, or below it in large print) the words."""
    ex = item.exercise
    words = [_p(ex.name, s.h2), _p(text.dose_words(item).capitalize() + ".", s.strong)]
    side = text.side_line(item, painful)
    if side:
        words.append(_p(side, s.strong))
    steps = [text.fill(step, item.side) for step in ex.steps]
    words += [_p(step, s.step, bullet=str(n)) for n, step in enumerate(steps, start=1)]
    words.append(_p("You should feel: " + text.fill(ex.feel, item.side), s.body))
    words.append(_p("Stop if: " + text.fill(ex.stop_if, item.side), s.stop))
    words.append(_p("Why this one for you: " + item.why, s.body))
    picture = _picture(ex, s, width, item.side)
    if s.size >= 16:  # large print: a full-width picture above the words, split between steps
        rule = HRFlowable(width="100%", thickness=1.2, color=CARD_EDGE, spaceAfter=s.size * 0.4)
        first = len(words) - len(steps) - 3  # name, dose, side and step 1 stay with the picture
        return [
            KeepTogether([rule, picture, *words[: first + 1]]),
            *words[first + 1 : -4],
            KeepTogether(words[-4:]),
        ]  # the last step with "feel", "stop if" and "why"
    return [_Card(picture, words, width)]


def _picture(exercise, s: Styles, width: float, side: str | None = None):
    """The pose, mirrored when the patient's side is the right; full width in large print."""
    from hepplan.render.drawing import draw_pose

    if s.size >= 16:
        w = width
        return draw_pose(exercise.pose, w, w * 0.42, font=FONT, side=side)
    w = width * 0.38 - 6
    return draw_pose(exercise.pose, w, w * 0.55, font=FONT, side=side)


def _clinician_page(profile: Profile, decision: Decision, clinic: Clinic, s: Styles) -> list:
    a = profile.assessment
    story = [_p("For the clinician", s.h1)]
    findings = [
        f"Patient: {profile.patient.name} ({profile.patient.id})"
        + (f", age {profile.patient.age}" if profile.patient.age is not None else ""),
        f"Assessed {a.date.isoformat()} by {a.clinician}; painful side {a.side.value}",
        f"Piriformis {a.piriformis.value}; radicular level {a.radicular_level.value}; "
        f"irritability {a.irritability.value}; directional preference "
        f"{a.directional_preference.value}",
        "Gluteal grades: medius "
        f"{_grade(a.glute_strength.medius)}, maximus {_grade(a.glute_strength.maximus)}",
        "Conditions: " + (", ".join(c.value for c in a.conditions) or "none"),
        "Equipment: " + (", ".join(e.value for e in a.equipment) or "none beyond chair, wall, mat"),
        f"Disposition: {decision.disposition}"
        + (f" (triggered: {', '.join(decision.triggered)})" if decision.triggered else ""),
        f"Exercise content version: {decision.content_version} (the exercises in this "
        "program; the JSON decision gives the whole library's version)",
    ]
    story += [_p(line, s.small) for line in findings]
    if profile.medical_clearance:
        story.append(_p("Medical clearances", s.h2))
        for entry in profile.medical_clearance:
            story.append(
                _p(
                    f"{entry.flag}: cleared by {entry.cleared_by} on {entry.date.isoformat()}"
                    + (f". {entry.note}" if entry.note else ""),
                    s.small,
                )
            )
    if decision.clinician_notes:
        story.append(_p("Withheld", s.h2))
        story += [_p(note, s.small) for note in decision.clinician_notes]
    story.append(_p("Decision trace", s.h2))
    story += [_p(line, s.small) for line in decision.trace]
    return story


def _grade(value: float | None) -> str:
    return "not graded" if value is None else f"{value:g}/5"


# --- the redirect -----------------------------------------------------------------------------


def render_redirect(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> bytes:
    """The document a refused patient takes away instead of a program. It holds no exercise."""
    if not decision.refused:
        raise ValueError("only a refused decision has a redirect document")
    s = styles(large_print)
    ctx = dict(disposition=decision.disposition.word, emergency_number=clinic.emergency_number)
    emergency = decision.disposition is Level.EMERGENCY
    colour = RED if emergency else AMBER
    story: list = _clinic_header(clinic, s)
    story.append(_p(text.block("redirect.j2", "title", **ctx), s.title))
    story.append(_p(f"For: {profile.patient.name}", s.strong))
    banner_rows = [[_p(text.block("redirect.j2", "action", **ctx), s.action)]]
    if emergency:
        banner_rows.append([_p(f"Emergency number: {clinic.emergency_number}", s.big_number)])
    banner = Table(banner_rows, colWidths=["100%"])
    banner.setStyle(
        _style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colour),
                ("TOPPADDING", (0, 0), (-1, -1), 10),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        )
    )
    story += [banner, Spacer(1, s.size)]
    story.append(_p(text.block("redirect.j2", "how", **ctx), s.strong))
    if not emergency:
        story.append(_p(f"Emergency number: {clinic.emergency_number}", s.strong))
    story.append(_p(text.block("redirect.j2", "no_exercise", **ctx), s.body))
    story.append(_p("Why", s.h1))
    story.append(_p(text.block("redirect.j2", "reasons_intro", **ctx), s.body))
    story += _bullets(_patient_reasons(profile, decision), s)
    story.append(_p("What to bring and say", s.h1))
    story.append(_p(text.block("redirect.j2", "bring", **ctx), s.body))
    story.append(_p(text.block("redirect.j2", "say", **ctx), s.body))
    if not emergency:
        story.append(_p(text.block("redirect.j2", "watch", **ctx), s.body))
    if clinic.phone:
        story.append(_p(f"Questions? Call the clinic: {clinic.phone}", s.body))

    story.append(Spacer(1, s.size))
    # Whole: on page 1 when it fits, else on a page of its own that a doctor can be handed.
    story.append(KeepTogether(_doctor_section(profile, decision, clinic, s)))
    title = "Medical referral" if emergency else "Doctor visit needed"
    return build_pdf(story, clinic, title, _footer(profile, decision, clinic))


def _patient_reasons(profile: Profile, decision: Decision) -> tuple[str, ...]:
    """Why, in the patient's words: "You have..." for yes, "You may have..." for unsure."""
    if decision.referral.reasons:
        return decision.referral.reasons
    answers = profile.red_flags
    return tuple(
        redflags.BY_KEY[key].told(answers.answer(key).value)
        for key in decision.triggered
        if answers.positive(key)
    )


def _doctor_section(profile: Profile, decision: Decision, clinic: Clinic, s: Styles) -> list:
    """For the receiving doctor, in clinical words: who, what was found, each red-flag question
    answered yes or unsure, why this level, and the questions not yet asked. No keys, rule ids
    or trace lines."""
    a = profile.assessment
    why = decision.referral.why
    level = why[0] if why else f"Referred as {decision.disposition}."
    lines = [
        f"Patient: {profile.patient.name} ({profile.patient.id})"
        + (f", age {profile.patient.age}" if profile.patient.age is not None else ""),
        f"Assessed {a.date.isoformat()} by {a.clinician}"
        + (f", {clinic.name}" if clinic.name else ""),
        f"{level.rstrip('.')}; no exercise program was given.",
        "Findings: buttock and leg pain, painful side "
        f"{_side_name(a.side.value)}; {_radicular_words(profile)}; irritability "
        f"{a.irritability.value}"
        + (f"; pain now {a.pain_now}/10" if a.pain_now is not None else ""),
    ]
    story = [_p("For the receiving doctor", s.h1)]
    story += [_p(line, s.strong if line.startswith("Referred") else s.small) for line in lines]
    answered = _answered_lines(profile, decision)
    if answered:
        story.append(_p("Red-flag questions answered yes or unsure", s.h2))
        story += [_p(line, s.small, bullet="•") for line in answered]
    if why[1:]:
        story.append(_p("Why this level", s.h2))
        story += [_p(line, s.small, bullet="•") for line in why[1:]]
    if decision.missing:
        story.append(_p("Red-flag questions not yet asked", s.h2))
        story += [
            _p(f"{redflags.BY_KEY[key].question}?", s.small, bullet="•") for key in decision.missing
        ]
    return story


def _radicular_words(profile: Profile) -> str:
    a = profile.assessment
    if a.nerve_side is None:
        return "no radicular signs"
    legs = "both legs" if a.nerve_side.value == "both" else f"{a.nerve_side.value} leg"
    return f"radicular signs at {a.radicular_level.value}, {legs}"


def _answered_lines(profile: Profile, decision: Decision) -> list[str]:
    """Each question answered yes or unsure, in its words, with the answer and any clearance."""
    answers = profile.red_flags
    clearances = {entry.flag: entry for entry in profile.medical_clearance}
    lines = []
    for flag in redflags.RED_FLAGS:
        if not answers.positive(flag.key):
            continue
        line = f"{flag.question}: {answers.answer(flag.key).value}"
        entry = clearances.get(flag.key)
        if entry is not None:
            counted = "still counted" if flag.key in decision.triggered else "not counted"
            line += (
                f"; medically cleared by {entry.cleared_by} on {entry.date.isoformat()}"
                + (f" ({entry.note})" if entry.note else "")
                + f"; {counted}"
            )
        lines.append(line)
    return lines


# --- the picture sheet --------------------------------------------------------------------------


def render_pictures(exercises, clinic: Clinic, *, title: str = "Exercise pictures") -> bytes:
    """Every exercise's start and end picture with its name and id, two to a row, for review."""
    from hepplan.render.drawing import draw_pose

    s = styles(False)
    width = frame_width(clinic)
    cell_w = width / 2 - 4
    cells = []
    for exercise in exercises:
        cells.append(
            [
                _p(f"{exercise.name} ({exercise.id})", s.small),
                draw_pose(exercise.pose, cell_w - 6, cell_w * 0.5, font=FONT),
            ]
        )
    if len(cells) % 2:
        cells.append([Spacer(1, 1)])
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[cell_w + 4, cell_w + 4])
    table.setStyle(
        _style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#DDDDDD")),
            ]
        )
    )
    story = [_p(title, s.h1), table]
    return build_pdf(story, clinic, title, (title, ""))

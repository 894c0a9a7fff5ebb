"""The layout kit every PDF shares: fonts, paragraph styles, literal paragraphs, the page
footer and the build.

Every piece of text enters a paragraph through ``para``, which escapes it, so a name like
``<b>Ann & Bo</b>`` prints literally. Output is deterministic: reportlab's invariant mode, dates
from the profile. Print sizes follow CLINICAL.md §3: normal print has 12 pt body text and nothing
under 9 pt; large print 18 pt body text and nothing under 14 pt.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from hepplan.domain.clinic import Clinic
from hepplan.io.resources import font_path

#: The footer of a page: (left, right) text for page ``number`` of ``total``.
Footer = Callable[[int, int], tuple[str, str]]

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
RED = colors.HexColor("#B00020")
AMBER = colors.HexColor("#B26A00")
INK = colors.HexColor("#1A1A1A")
GREY = colors.HexColor("#555555")
BLUE = colors.HexColor("#1F4E79")
CARD_EDGE = colors.HexColor("#B8C4D0")
PALE_RED = colors.HexColor("#FDECEC")


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(font_path("DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(BOLD, str(font_path("DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


class Styles:
    """Every paragraph style, from one body size: 12 pt, or 18 pt for large print. The
    smallest text (labels, footers, tables) is 10 pt in normal print and 14 pt in large."""

    def __init__(self, large: bool = False, body: float | None = None, least: float | None = None):
        _register_fonts()  # paragraphs resolve their fonts as they are made
        size = body or (18.0 if large else 12.0)
        self.large = large
        self.size = size
        self.least = least or (14.0 if large else 10.0)
        self.page_height = 640.0  # the shorter frame of A4 and US letter, less a little
        self.body = ParagraphStyle(
            "body",
            fontName=FONT,
            bulletFontName=FONT,
            bulletFontSize=size,
            fontSize=size,
            leading=size * (1.17 if large else 1.15),
            textColor=INK,
            spaceAfter=size * 0.1,
        )
        self.small = ParagraphStyle(
            "small",
            parent=self.body,
            fontSize=self.least,
            bulletFontSize=self.least,
            leading=self.least * 1.25,
            textColor=GREY,
            spaceAfter=self.least * 0.2,
        )
        self.strong = ParagraphStyle("strong", parent=self.body, fontName=BOLD)
        self.loose = ParagraphStyle(
            "loose", parent=self.body, spaceAfter=size * (0.15 if large else 0.3)
        )
        self.small_strong = ParagraphStyle(
            "small_strong", parent=self.small, fontName=BOLD, textColor=INK, spaceBefore=4
        )
        self.stop = ParagraphStyle("stop", parent=self.body, textColor=RED)
        self._headings(size)
        self._lists_and_banners(size)

    def _heading(self, name: str, size: float, before: float, after: float) -> ParagraphStyle:
        return ParagraphStyle(
            name,
            parent=self.body,
            fontName=BOLD,
            fontSize=size,
            leading=size * 1.2,
            spaceBefore=before,
            spaceAfter=after,
            keepWithNext=1,
        )

    def _headings(self, size: float) -> None:
        big = 1.0
        self.title = self._heading("title", size + 8 * big, 0, size * 0.15)
        self.h1 = self._heading("h1", size + 4 * big, size * 0.35, size * 0.15)
        self.h2 = self._heading("h2", size + 2, size * (0.2 if self.large else 0.3), size * 0.15)
        self.h2_flowing = ParagraphStyle("h2_flowing", parent=self.h2, keepWithNext=0)
        self.card_title = self._heading("card_title", size + 2, 0, size * 0.15)

    def _lists_and_banners(self, size: float) -> None:
        self.action = ParagraphStyle(
            "action",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 12,
            leading=(size + 12) * 1.2,
            alignment=TA_CENTER,
            textColor=colors.white,
        )
        self.big_number = ParagraphStyle(
            "big_number", parent=self.action, fontSize=size + 6, leading=(size + 6) * 1.25
        )
        self.banner = ParagraphStyle(
            "banner",
            parent=self.body,
            fontName=BOLD,
            fontSize=size + 4,
            leading=(size + 4) * 1.2,
            textColor=colors.white,
            spaceAfter=0,
        )
        self.banner_small = ParagraphStyle(
            "banner_small", parent=self.body, textColor=colors.white, spaceAfter=0
        )
        self.bullet = ParagraphStyle(
            "bullet",
            parent=self.body,
            leftIndent=size * 1.2,
            bulletIndent=size * 0.2,
            spaceAfter=size * (0.05 if self.large else 0.15),
        )
        self.step = ParagraphStyle(
            "step",
            parent=self.body,
            leftIndent=size * 1.4,
            bulletIndent=0,
            bulletFontName=BOLD,
            spaceAfter=0,
        )
        self.check = ParagraphStyle(
            "check", parent=self.bullet, leftIndent=size * 1.6, bulletFontName=FONT
        )


@functools.lru_cache(maxsize=8)
def styles(large_print: bool, body: float | None = None, least: float | None = None) -> Styles:
    """One set of styles per size for the whole process, so layouts can be shared; ``body``
    sets another body size than the print size's own (the redirect's larger one, the clinician
    record's smaller one) and ``least`` the smallest text's."""
    return Styles(large_print, body, least)


def table_style(commands: list) -> TableStyle:
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


def para(value: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
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
    """Draws the footer on every page once the page count is known ("Page x of y")."""

    def __init__(self, *args, footer: Footer, least: float, **kwargs):
        kwargs["initialFontName"] = FONT  # no unembedded standard font on any page
        super().__init__(*args, **kwargs)
        self._footer, self._least = footer, least
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
        left, right = self._footer(number, total)
        self.setFont(FONT, self._least)
        self.setFillColor(GREY)
        y = 7 * mm
        self.drawString(MARGIN, y, left)
        self.drawRightString(width - MARGIN, y, right)


#: The page's side margins; the frame every story is laid out in is the page less both.
MARGIN = 11 * mm
TOP, BOTTOM = 9 * mm, 13 * mm


#: The padding reportlab's frame keeps inside the margins, on each side.
FRAME_PAD = 6


def frame_width(clinic: Clinic) -> float:
    """The width a story is laid out in on the clinic's paper."""
    return _page_size(clinic)[0] - 2 * MARGIN - 2 * FRAME_PAD


def build_pdf(story: list, clinic: Clinic, title: str, footer: Footer, s: Styles) -> bytes:
    """The story laid out on the clinic's paper, with ``footer(page, pages)`` on every page."""
    _register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=_page_size(clinic),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
        author=clinic.name or "hepplan",
        subject="",
        creator="hepplan",
        producer="hepplan",
        keywords="",
        invariant=1,
    )
    canvasmaker = functools.partial(_NumberedCanvas, footer=footer, least=s.least)
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def box_style(edge, fill=None, width: float = 1.5, pad: float = 8) -> TableStyle:
    """A one-column table drawn as a box: the safety box, the main message, a tip."""
    commands = [
        ("BOX", (0, 0), (-1, -1), width, edge),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 0), (-1, -1), pad * 0.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad * 0.2),
        ("TOPPADDING", (0, 0), (-1, 0), pad * 0.5),
        ("BOTTOMPADDING", (0, -1), (-1, -1), pad * 0.5),
    ]
    if fill is not None:
        commands.append(("BACKGROUND", (0, 0), (-1, -1), fill))
    return table_style(commands)


def boxed(flowables: list, edge, fill, width: float, s: Styles) -> Table:
    """Flowables in a box of ``width``, one a row: the safety box, the main message, a recap."""
    table = Table([[f] for f in flowables], colWidths=[width])
    table.setStyle(box_style(edge, fill, width=2 if fill is not None else 1.5, pad=s.size * 0.5))
    return table


def write_in(label: str, s: Styles, width: float | None = None) -> Table:
    """A label and a line to write on: under the label, or beside it when ``width`` leaves room
    for a line at least 12 letters long."""
    said = pdfmetrics.stringWidth(label, FONT, s.size) + s.size
    if width is not None and width - said >= s.size * 12:
        table = Table([[para(label, s.body), ""]], colWidths=[said, width - said])
        line = [("LINEBELOW", (1, 0), (1, 0), 0.8, GREY), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]
    else:
        table = Table([[para(label, s.body)], [""]], rowHeights=[None, s.size * 1.4])
        line = [("LINEBELOW", (0, 1), (0, 1), 0.8, GREY)]
    table.setStyle(table_style([*line, ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return table

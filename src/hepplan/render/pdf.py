"""The patient's documents as PDF: the handout (prescribed) and the redirect to medical care
(refused), and the picture sheet of a library.

Renderers take a finished ``Decision`` and return bytes; they never look anything up. The
layout kit is ``render/kit.py``; the handout is laid out from its outline in
``render/handout.py``, the redirect in ``render/redirect.py``.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.platypus import Spacer, Table

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.profile import Profile
from hepplan.render.handout import render_handout
from hepplan.render.kit import FONT, build_pdf, frame_width, para, styles, table_style
from hepplan.render.redirect import render_redirect

__all__ = ["render_document", "render_handout", "render_pictures", "render_redirect"]


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
                para(f"{exercise.name} ({exercise.id})", s.small),
                draw_pose(exercise.pose, cell_w - 6, cell_w * 0.5, font=FONT),
            ]
        )
    if len(cells) % 2:
        cells.append([Spacer(1, 1)])
    rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[cell_w + 4, cell_w + 4])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.HexColor("#DDDDDD")),
            ]
        )
    )
    story = [para(title, s.h1), table]
    return build_pdf(story, clinic, title, lambda number, total: (title, f"{number} / {total}"), s)

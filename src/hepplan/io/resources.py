"""Where the shipped exercise library, templates and fonts live.

In a built wheel, ``exercises/`` and ``templates/`` are packaged inside ``hepplan/``; in a source
checkout (an editable install) they sit at the repository root, beside ``src/``.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # src/hepplan, or hepplan/ in a wheel


def data_dir(name: str) -> Path:
    packaged = PACKAGE_DIR / name
    if packaged.is_dir():
        return packaged
    checkout = PACKAGE_DIR.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"hepplan's {name}/ folder is missing from this installation")


def default_library_dir() -> Path:
    return data_dir("exercises")


def templates_dir() -> Path:
    return data_dir("templates")


def font_path(name: str) -> Path:
    return PACKAGE_DIR / "fonts" / name

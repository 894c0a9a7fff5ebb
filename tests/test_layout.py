"""The package's shape, held as tests (DESIGN.md "Layout"): layers import only downwards, the
command line stays thin, functions stay short, and each outcome word is defined once."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "hepplan"

#: cli → app → render, deliver, batch, assess → domain, words, io → errors (higher imports lower)
LAYERS = {
    "cli": 5,
    "options": 5,
    "__main__": 5,
    "app": 4,
    "render": 3,
    "deliver": 3,
    "batch": 3,
    "assess": 3,
    "domain": 2,
    "words": 2,
    "io": 2,
    "errors": 1,
    "__init__": 0,  # the package's face: its version
}


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def part(path: Path) -> str:
    """The layer a module of the package belongs to: its top-level package or module name."""
    first = path.relative_to(SRC).parts[0]
    return first.removesuffix(".py")


def imported_parts(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hepplan"):
            names = node.module.split(".")
            if len(names) > 1:
                found.add(names[1])
            else:  # from hepplan import app, __version__
                found.update(alias.name for alias in node.names if alias.name in LAYERS)
                if any(alias.name == "__version__" for alias in node.names):
                    found.add("__init__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("hepplan."))
    return found


def test_every_module_belongs_to_a_layer():
    assert {part(p) for p in modules()} <= set(LAYERS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_imports_from_a_higher_layer(path):
    mine = LAYERS[part(path)]
    higher = sorted(name for name in imported_parts(path) if LAYERS[name] > mine)
    assert higher == [], f"{path.relative_to(SRC)} imports from a higher layer: {higher}"


def test_the_domain_reads_no_files_and_draws_nothing():
    """Importing screening, planning and follow-up loads no YAML reader, renderer or template
    engine: the pure core stays pure."""
    code = (
        "import sys, hepplan.domain.screening, hepplan.domain.planner, hepplan.domain.progress;"
        "print(sorted(m for m in ('yaml', 'reportlab', 'jinja2', 'click') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_command_line_is_thin():
    assert len((SRC / "cli.py").read_text().splitlines()) <= 250


#: Functions allowed over 60 lines, each with its reason. None today.
LONG_FUNCTIONS: dict[str, str] = {}


def test_no_function_is_over_60_lines():
    long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                where = f"{path.relative_to(SRC)}:{node.name}"
                if node.end_lineno - node.lineno + 1 > 60 and where not in LONG_FUNCTIONS:
                    long.append(where)
    assert long == []


def test_each_outcome_word_is_written_once_in_the_code():
    """Status says prescribed, refused and incomplete; everything else uses Status."""
    pattern = re.compile(r'"(prescribed|refused|incomplete)"')
    places = [
        f"{path.relative_to(SRC)}:{number}"
        for path in modules()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if pattern.search(line)
    ]
    assert places == ["errors.py:24", "errors.py:25", "errors.py:26"]

"""The built wheel carries the library, templates and fonts, and runs from any folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from .conftest import EXAMPLES, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("hepplan-*.whl")
    return built


def test_the_wheel_ships_exercises_templates_and_fonts(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {p.name for p in (REPO / "exercises").glob("*.yaml")}
    assert {n.split("/")[-1] for n in names if n.startswith("hepplan/exercises/")} == shipped
    assert "hepplan/templates/en/handout.j2" in names
    assert "hepplan/templates/en/redirect.j2" in names
    assert "hepplan/fonts/DejaVuSans.ttf" in names


def test_the_wheel_carries_the_licence_it_declares_and_its_type_marker(wheel):
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    [metadata] = [n for n in names if n.endswith(".dist-info/METADATA")]
    assert "License-Expression: MIT" in archive.read(metadata).decode()
    [licence] = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert archive.read(licence) == (REPO / "LICENSE").read_bytes()
    assert archive.read(licence).startswith(b"MIT License")
    assert "hepplan/py.typed" in names


def test_the_installed_package_plans_from_another_folder(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import hepplan.io.resources as r; print(r.default_library_dir())"
    where = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True, check=True
    )
    assert where.stdout.strip() == str(site / "hepplan" / "exercises")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hepplan",
            "plan",
            str(EXAMPLES / "tight-piriformis.yaml"),
            "--json",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "prescribed"
    assert (work / "P-1001.pdf").read_bytes().startswith(b"%PDF-")


def test_library_check_prints_only_its_verdict():
    """No dependency's deprecation notice reaches the clinician's terminal."""
    done = subprocess.run(
        [sys.executable, "-m", "hepplan", "library", "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.startswith(f"{REPO / 'exercises'}: clean — ")

"""Reading an exercise library folder: every file parsed, links and loops checked, one line per
problem. The models live in ``hepplan.domain.library``."""

from __future__ import annotations

from pathlib import Path

from hepplan.domain.library import Exercise, Library, parse_exercise
from hepplan.errors import HepplanError, InputError, LibraryError
from hepplan.io.loading import read_document


def read_library(directory: Path) -> tuple[dict[str, Exercise], dict[str, Path], list[str]]:
    """Every valid exercise in a folder, where each came from, and one line per problem."""
    exercises: dict[str, Exercise] = {}
    paths: dict[str, Path] = {}
    problems: list[str] = []
    if not directory.is_dir():
        return exercises, paths, [f"{directory}: no such library folder"]
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    if not files:
        problems.append(f"{directory}: holds no exercise files (*.yaml)")
    invalid: set[str] = set()  # files that exist but failed: links to them are not dangling
    for path in files:
        try:
            exercise = parse_exercise(read_document(path), str(path))
        except HepplanError as exc:  # unreadable or invalid: the library is broken
            problems.extend(exc.problems)
            invalid.add(path.stem)
            continue
        if exercise.id != path.stem:
            problems.append(f"{path}: id: {exercise.id!r} must match the file name {path.stem!r}")
        if exercise.id in exercises:
            problems.append(
                f"{path}: id: {exercise.id!r} is already used by {paths[exercise.id].name}"
            )
            continue
        exercises[exercise.id] = exercise
        paths[exercise.id] = path
    for ex_id, exercise in exercises.items():
        for link in ("progression", "regression"):
            target = getattr(exercise, link)
            if target is not None and target not in exercises and target not in invalid:
                problems.append(f"{paths[ex_id]}: {link}: {target!r} is not in the library")
    problems.extend(_cycles(exercises, paths))
    return exercises, paths, problems


def _cycles(exercises: dict[str, Exercise], paths: dict[str, Path]) -> list[str]:
    """A progression (or regression) chain that comes back to where it started."""
    problems = []
    for link in ("progression", "regression"):
        reported: set[str] = set()
        for start in sorted(exercises):
            chain = [start]
            while True:
                nxt = getattr(exercises[chain[-1]], link)
                if nxt is None or nxt not in exercises:
                    break
                if nxt in chain:
                    loop = [*chain[chain.index(nxt) :], nxt]
                    if not reported & set(loop):
                        problems.append(
                            f"{paths[nxt]}: {link}: the chain loops: {' → '.join(loop)}"
                        )
                        reported |= set(loop)
                    break
                chain.append(nxt)
    return problems


def require_folder(directory: Path) -> None:
    """A ``--library`` that is not a folder is the user's input: exit 2, not a broken library."""
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "no such library folder"
        raise InputError(f"{directory}: {what}; give the folder that holds the exercise files")


def load_library(directory: Path | None = None) -> Library:
    """Load and validate every ``*.yaml`` exercise in a folder. Problems → LibraryError (exit 1)."""
    from hepplan.io.resources import default_library_dir

    directory = directory or default_library_dir()
    require_folder(directory)
    exercises, _, problems = read_library(directory)
    if problems:
        raise LibraryError(problems)
    return Library(exercises=exercises, source=str(directory))

"""hepplan's errors.

Each carries the exit code of CONTRACT.md §3 and messages written for people.
"""

from __future__ import annotations


class HepplanError(Exception):
    """Base of every error hepplan reports to a user. One message per problem."""

    exit_code = 1

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InputError(HepplanError):
    """Bad usage or invalid input: a profile, clinic file or option (exit 2)."""

    exit_code = 2


class LibraryError(HepplanError):
    """The exercise library is broken or cannot meet a rule (exit 1)."""

    exit_code = 1


class OutputError(HepplanError):
    """An output could not be written (exit 1); nothing half-written is left behind."""

    exit_code = 1

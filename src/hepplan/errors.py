"""hepplan's errors, its exit codes and the status of a decision: the one place each is defined.

Every error carries the exit code of CONTRACT.md §3 and messages written for people.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Exit(IntEnum):
    """The exit codes of CONTRACT.md §3, the same for every command."""

    OK = 0  # done; for plan: a program was prescribed
    INTERNAL = 1  # an internal failure or a broken library
    USAGE = 2  # bad usage or invalid input
    REFUSED = 3  # red flags need medical care first: the redirect was written
    INCOMPLETE = 4  # screening incomplete: nothing written


class Status(StrEnum):
    """What became of a profile: prints and serialises as its word."""

    PRESCRIBED = "prescribed"
    REFUSED = "refused"
    INCOMPLETE = "incomplete"

    @property
    def exit_code(self) -> Exit:
        return _STATUS_EXIT[self]


_STATUS_EXIT = {
    Status.PRESCRIBED: Exit.OK,
    Status.REFUSED: Exit.REFUSED,
    Status.INCOMPLETE: Exit.INCOMPLETE,
}


class HepplanError(Exception):
    """Base of every error hepplan reports to a user. One message per problem."""

    exit_code = Exit.INTERNAL

    def __init__(self, problems: str | list[str]):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class InputError(HepplanError):
    """Bad usage or invalid input: a profile, clinic file or option (exit 2)."""

    exit_code = Exit.USAGE


class LibraryError(HepplanError):
    """The exercise library is broken or cannot meet a rule (exit 1)."""

    exit_code = Exit.INTERNAL


class OutputError(HepplanError):
    """An output could not be written (exit 1); nothing half-written is left behind."""

    exit_code = Exit.INTERNAL


class DeliveryError(HepplanError):
    """An e-mail could not be delivered (exit 1); the server's own words are quoted."""

    exit_code = Exit.INTERNAL

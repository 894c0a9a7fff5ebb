"""The command line's options, each defined once and stacked onto the commands that take it,
and the wrapper that turns hepplan's errors into one line each and the right exit code."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click


def stacked(*decorators):
    """Several options as one decorator, applied in the order written (top first)."""

    def apply(command):
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


PROFILE = click.argument("profile", type=click.Path(path_type=Path, dir_okay=True))
JSON_OUT = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
)
LIBRARY = click.option(
    "--library",
    "library_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="An exercise library folder to use instead of the shipped one.",
)
CLINIC = click.option(
    "--clinic",
    "clinic_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Clinic settings (YAML): name, phone, emergency number, pain bands, page size.",
)
LARGE_PRINT = click.option(
    "--large-print", is_flag=True, help="Body text of at least 16 pt and bigger pictures."
)


SMTP_OPTIONS = [
    click.option(
        "--from",
        "from_addr",
        metavar="ADDR",
        help="The sender, e.g. 'Riverside PT <frontdesk@example.org>'. "
        "Also HEPPLAN_SMTP_FROM, or smtp.from or email in the clinic file.",
    ),
    click.option(
        "--smtp-host",
        metavar="HOST",
        help="The mail server. Also HEPPLAN_SMTP_HOST, or smtp.host in the clinic file.",
    ),
    click.option(
        "--smtp-port",
        type=click.IntRange(1, 65535),
        metavar="PORT",
        help="Default 587 for starttls, 465 for ssl, 25 for none. Also HEPPLAN_SMTP_PORT.",
    ),
    click.option(
        "--security",
        type=click.Choice(["starttls", "ssl", "none"]),
        help="Default starttls. 'none' is allowed only for a server on this machine. "
        "Also HEPPLAN_SMTP_SECURITY.",
    ),
    click.option(
        "--user",
        metavar="USER",
        help="Log in as USER; the password comes only from HEPPLAN_SMTP_PASSWORD. "
        "Also HEPPLAN_SMTP_USER.",
    ),
]


smtp_options = stacked(*SMTP_OPTIONS)


def say(message: str) -> None:
    """One line for the clinician, on stderr."""
    click.echo(message, err=True)


def reports_errors(command):
    """Turn hepplan's errors into one line per problem on stderr and the right exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from hepplan.errors import HepplanError

        try:
            return command(*args, **kwargs)
        except HepplanError as exc:
            for problem in exc.problems:
                say(f"error: {problem}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            say("interrupted; nothing was written")
            sys.exit(130)
        except Exception as exc:  # an internal failure: say so plainly, trace only on request
            if os.environ.get("HEPPLAN_DEBUG"):
                raise
            say(f"error: internal failure: {type(exc).__name__}: {exc}")
            say("Set HEPPLAN_DEBUG=1 to see the details, and please report it.")
            sys.exit(1)

    return wrapper


EMAIL_OPTIONS = stacked(
    click.option(
        "--to",
        "to_addr",
        metavar="ADDR",
        help="Send to this address. Default: patient.email from the profile.",
    ),
    smtp_options,
    click.option(
        "--eml",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="Write the exact message to FILE and send nothing.",
    ),
    click.option(
        "-o",
        "--output",
        type=click.Path(),
        help="Where to write the redirect document if the profile is refused. "
        "Default: <patient id>.pdf in the current folder.",
    ),
)
BATCH_OPTIONS = stacked(
    click.option(
        "-o",
        "--output",
        "out_dir",
        type=click.Path(path_type=Path),
        required=True,
        help="The folder for the documents: <patient id>.pdf each.",
    ),
    click.option(
        "-j",
        "--jobs",
        type=click.IntRange(1, 256),
        help="Worker processes. Default: the number of cores.",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="Run on a Dask cluster, e.g. tcp://scheduler.example.org:8786 "
        "(pip install 'hepplan[dask]').",
    ),
)
SEND_OPTIONS = stacked(
    click.option(
        "--email",
        "send_email",
        is_flag=True,
        help="E-mail each newly built program to patient.email (once per program).",
    ),
    smtp_options,
)
DOCUMENT_OPTIONS = stacked(CLINIC, LIBRARY, LARGE_PRINT)
PLAN_OUTPUT = stacked(
    click.option(
        "-o",
        "--output",
        type=click.Path(),
        help="Where to write the PDF. Default: <patient id>.pdf in the current folder.",
    ),
    click.option(
        "--record",
        type=click.Path(),
        metavar="FILE.pdf",
        help="Where to write the clinician record (for the chart, never the patient). "
        "Default: <patient id>.record.pdf beside the PDF.",
    ),
    click.option("--no-record", is_flag=True, help="Write no clinician record."),
)
ASSESS_OPTIONS = stacked(
    click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        required=True,
        help="Where to write the profile: YAML, or JSON for a .json name.",
    ),
    click.option(
        "--from",
        "previous",
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="EXISTING",
        help="A follow-up visit: offer this profile's answers as defaults. The red flags "
        "and medical clearances are asked afresh.",
    ),
    click.option("--force", is_flag=True, help="Replace the output file if it exists."),
)
PICTURES_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(),
    default="pictures.pdf",
    show_default=True,
    help="Where to write the PDF.",
)


def progress_bar(stack, total: int):
    """A progress bar on a terminal (nothing when stderr is a file or a pipe), closed with
    ``stack``; returns the function that advances it."""
    if not sys.stderr.isatty():
        return None
    bar = click.progressbar(length=total, label="Building", file=sys.stderr)
    return stack.enter_context(bar).update

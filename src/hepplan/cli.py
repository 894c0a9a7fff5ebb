"""The command line: each command parses its options and makes one call into ``hepplan.app``.
Only click is imported at start-up, so ``hepplan --help`` stays fast."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from hepplan import __version__
from hepplan import options as opt
from hepplan.options import reports_errors
from hepplan.options import say as _say


def _app():
    """The use cases, imported by the command that runs them, so ``--help`` stays fast."""
    from hepplan import app

    return app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hepplan")
def cli() -> None:
    """Safe, personal home exercise programs for buttock and leg pain.

    A clinician's profile (YAML or JSON) is screened for red flags first, then planned as a
    three-step program and written as a PDF handout, or as a redirect to medical care.

    \b
    Exit codes: 0 prescribed, 1 internal failure or broken library, 2 invalid input,
    3 refused (red flags need medical care), 4 screening incomplete.

    \b
    Example:
        hepplan plan examples/profiles/tight-piriformis.yaml -o program.pdf
    """


@cli.command()
@opt.PROFILE
@opt.PLAN_OUTPUT
@opt.JSON_OUT
@opt.DOCUMENT_OPTIONS
@reports_errors
def plan(profile, output, record, no_record, as_json, **docs):
    """Screen a profile, plan the program and write the handout PDF, and the clinician record.

    When red flags need medical care, the redirect is written instead (exit 3), even with
    questions unasked or the library unusable. Unasked questions otherwise stop it (exit 4).

    \b
    Example:
        hepplan plan examples/profiles/tight-piriformis.yaml -o P-1001.pdf
        hepplan plan patient.yaml --json --clinic clinic.yaml --record chart/P-1001.pdf
    """
    app = _app()
    papers, chart = app.Documents(**docs), app.record_choice(record, no_record)
    sys.exit(app.plan(profile, output, papers, chart, as_json=as_json, say=_say, echo=click.echo))


@cli.command()
@opt.PROFILE
@opt.EMAIL_OPTIONS
@opt.DOCUMENT_OPTIONS
@reports_errors
def email(profile, to_addr, from_addr, eml, output, clinic_file, library_dir, large_print, **smtp):
    """E-mail the patient's program as a PDF attachment.

    Only a prescribed program is sent. A refusal sends nothing: the redirect is written here
    (exit 3); contact the patient directly. Settings: options, then HEPPLAN_SMTP_*, then the
    clinic file's smtp section. Always encrypted (STARTTLS, certificate checked).

    \b
    Example:
        export HEPPLAN_SMTP_PASSWORD=...        # never an option
        hepplan email patient.yaml --clinic clinic.yaml --smtp-host mail.example.org \\
            --user frontdesk
        hepplan email patient.yaml --clinic clinic.yaml --eml preview.eml
    """
    app = _app()
    mailing = app.Mailing(to_addr, from_addr, smtp, eml)
    documents = app.Documents(clinic_file, library_dir, large_print)
    sys.exit(app.email(profile, mailing, output, documents, say=_say))


@cli.command()
@click.argument("profiles_dir", type=click.Path(path_type=Path))
@opt.BATCH_OPTIONS
@opt.JSON_OUT
@opt.DOCUMENT_OPTIONS
@opt.SEND_OPTIONS
@reports_errors
def batch(profiles_dir, out_dir, jobs, scheduler, as_json, send_email, **options):
    """Build every patient's document from a folder of profiles, rebuilding only what changed.

    Writes OUT_DIR/<patient id>.pdf for every *.yaml, *.yml and *.json under PROFILES_DIR: the
    program, or the redirect. A manifest in OUT_DIR/.hepplan/ makes a rerun rebuild only what
    changed; safe to stop at any moment.

    \b
    Exit codes, most pressing first: 1 internal failure, 2 a profile invalid (the rest are
    built), 3 a new or changed redirect (contact that patient), 4 a screening incomplete, 0.

    \b
    Example:
        hepplan batch profiles/ -o programs/ --clinic clinic.yaml
        hepplan batch profiles/ -o programs/ --json --jobs 4
        hepplan batch profiles/ -o programs/ --clinic clinic.yaml --email --user frontdesk
    """
    app = _app()
    documents = app.Documents(
        *(options.pop(k) for k in ("clinic_file", "library_dir", "large_print"))
    )
    settings = {"jobs": jobs, "scheduler": scheduler, "as_json": as_json}
    settings.update(send_email=send_email, smtp=options)  # what is left: the SMTP options
    with contextlib.ExitStack() as stack:
        progress = functools.partial(opt.progress_bar, stack)
        code = app.batch(
            profiles_dir, out_dir, documents, settings, say=_say, out=sys.stdout, progress=progress
        )
    sys.exit(code)


@cli.command()
@opt.PROFILE
@opt.JSON_OUT
@reports_errors
def screen(profile, as_json):
    """Run the red-flag screening alone and say what it means.

    \b
    Example:
        hepplan screen examples/profiles/cauda-equina-emergency.yaml
    """
    app = _app()
    sys.exit(app.screen(profile, as_json=as_json, say=_say, echo=click.echo))


@cli.command()
@opt.ASSESS_OPTIONS
@reports_errors
def assess(output, previous, force):
    """Ask the assessment questions in the terminal and write the profile.

    Every red-flag question is asked (none can be skipped), then the screening is shown. The
    profile is written only when every question is answered (end of input: exit 2; Ctrl-C:
    130). Answers may come from a pipe, one per line.

    \b
    Example:
        hepplan assess -o P-1008.yaml
        hepplan assess --from P-1008.yaml -o P-1008-week6.yaml
    """
    sys.exit(_app().assess(output, previous, force=force))


@cli.command()
@reports_errors
def schema():
    """Print the profile's JSON Schema (draft 2020-12), for tools that write profiles.

    \b
    Example:
        hepplan schema > profile.schema.json
    """
    sys.exit(_app().schema(echo=click.echo))


@cli.group()
def library() -> None:
    """Look at the exercise library."""


@library.command("list")
@opt.JSON_OUT
@opt.LIBRARY
@reports_errors
def library_list(as_json, library_dir):
    """List every exercise: id, name, category, targets, tags, equipment, phases.

    \b
    Example:
        hepplan library list
        hepplan library list --json
    """
    app = _app()
    sys.exit(app.library_list(library_dir, as_json=as_json, echo=click.echo))


@library.command("show")
@click.argument("exercise_id")
@opt.LIBRARY
@reports_errors
def library_show(exercise_id, library_dir):
    """Show one exercise in full: its data, steps (as written, with {{ side }}) and sources.

    \b
    Example:
        hepplan library show clamshell
    """
    app = _app()
    sys.exit(app.library_show(exercise_id, library_dir, echo=click.echo))


@library.command("check")
@opt.LIBRARY
@reports_errors
def library_check(library_dir):
    """Check a library is fit to print: schema, vocabulary and tags, ids, links, every text
    and picture for every side, reading grade at most 7. Exit 0 only when clean, else 1.

    \b
    Example:
        hepplan library check
        hepplan library check --library my-exercises/
    """
    app = _app()
    sys.exit(app.library_check(library_dir, say=_say, echo=click.echo))


@library.command("pictures")
@click.argument("exercise_ids", nargs=-1)
@opt.PICTURES_OUTPUT
@opt.LIBRARY
@reports_errors
def library_pictures(exercise_ids, output, library_dir):
    """Draw every exercise's start and end picture on one sheet, to check them by eye.

    \b
    Example:
        hepplan library pictures -o pictures.pdf
        hepplan library pictures clamshell bridge -o two.pdf
    """
    app = _app()
    sys.exit(app.library_pictures(exercise_ids, output, library_dir, say=_say))


def main() -> None:
    cli(prog_name="hepplan")


if __name__ == "__main__":
    main()

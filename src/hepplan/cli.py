"""The command line: each command parses its options, makes one call into the core, and turns
hepplan's errors into the exit codes of CONTRACT.md §3. Only click is imported at start-up, so
``hepplan --help`` stays fast; everything else is imported by the command that needs it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from pathlib import Path

import click

from hepplan import __version__

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


def smtp_options(command):
    for option in reversed(SMTP_OPTIONS):
        command = option(command)
    return command


def _say(message: str) -> None:
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
                _say(f"error: {problem}")
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            _say("interrupted; nothing was written")
            sys.exit(130)
        except Exception as exc:  # an internal failure: say so plainly, trace only on request
            if os.environ.get("HEPPLAN_DEBUG"):
                raise
            _say(f"error: internal failure: {type(exc).__name__}: {exc}")
            _say("Set HEPPLAN_DEBUG=1 to see the details, and please report it.")
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hepplan")
def cli() -> None:
    """Safe, personal home exercise programs for buttock and leg pain.

    A clinician writes the assessment into a profile (YAML or JSON); hepplan screens the red
    flags first, then plans a three-phase program and writes it as a PDF handout, or, when the
    red flags need medical care, a redirect document instead.

    \b
    Exit codes: 0 prescribed, 1 internal failure or broken library, 2 invalid input,
    3 refused (red flags need medical care), 4 screening incomplete.

    \b
    Example:
        hepplan plan examples/profiles/tight-piriformis.yaml -o program.pdf
    """


@cli.command()
@PROFILE
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Where to write the PDF. Default: <patient id>.pdf in the current folder.",
)
@JSON_OUT
@LIBRARY
@CLINIC
@LARGE_PRINT
@reports_errors
def plan(profile, output, as_json, library_dir, clinic_file, large_print):
    """Screen a profile, plan the program and write the handout PDF.

    When red flags need medical care first, the redirect document is written instead (exit 3),
    even when some questions are unanswered or the library is unusable. When a red-flag
    question is unanswered and the answers given would allow a program, nothing is written
    (exit 4).

    \b
    Example:
        hepplan plan examples/profiles/tight-piriformis.yaml -o P-1001.pdf
        hepplan plan patient.yaml --json --clinic clinic.yaml
    """
    from hepplan import app as core
    from hepplan.io.output import check_output_path, output_file, write_atomic

    output = output_file(output)
    clinic = core.load_clinic(clinic_file)
    outcome = core.decide(profile, library_dir)  # screens before it reads the library
    decision = outcome.decision
    patient = outcome.profile.patient.id
    if output is None:
        output = Path.cwd() / f"{patient}.pdf"
    replaced = False
    if decision.status != "incomplete":
        replaced = check_output_path(output, _inputs(profile, clinic_file, clinic))
        write_atomic(output, core.render_document(outcome, clinic, large_print=large_print))
    if as_json:
        click.echo(decision.to_json())
    _report_plan(patient, decision, output, clinic.emergency_number, replaced)
    _report_library_problems(outcome)
    sys.exit(outcome.exit_code)


def _report_library_problems(outcome) -> None:
    """A refusal is written without the library; say what is wrong with it all the same."""
    if not outcome.library_problems:
        return
    for problem in outcome.library_problems:
        _say(f"error: {problem}")
    patient = outcome.profile.patient.id
    if outcome.decision.refused:
        _say(f"{patient}: the redirect needs no exercise library, so it was written anyway")
    else:
        _say(f"{patient}: fix the exercise library before a program can be planned")


def _inputs(profile: Path, clinic_file: Path | None, clinic) -> dict[str, Path | None]:
    """The files a command reads: no output may be one of them."""
    return {"profile": profile, "clinic file": clinic_file, "clinic's logo": clinic.logo}


def _replaced(replaced: bool) -> str:
    return " (it replaced the file that was there)" if replaced else ""


def _report_plan(
    patient: str, decision, output: Path, emergency_number: str, replaced: bool = False
) -> None:
    if decision.status == "prescribed":
        extra = " — also book a routine doctor's check" if decision.see_doctor_about else ""
        _say(
            f"{patient}: program prescribed (disposition {decision.disposition}); "
            f"wrote {output}{_replaced(replaced)}{extra}"
        )
    elif decision.status == "refused":
        action = (
            f"go to the emergency department now, or call {emergency_number}"
            if decision.disposition == "emergency"
            else "see a doctor within 24 hours"
        )
        _say(
            f"{patient}: {decision.disposition.upper()} — do not prescribe "
            f"({', '.join(decision.triggered)}). The patient must {action}. "
            f"Wrote the redirect document to {output}{_replaced(replaced)}"
        )
        _report_unasked(patient, decision.missing)
    else:
        _report_missing(patient, decision.missing)


def _report_batch_item(item: dict, out_dir: Path, emergency_number: str) -> None:
    """What the clinician must act on: every refusal made this run, every problem."""
    if item["status"] == "refused" and item["action"] == "built":
        action = (
            f"go to the emergency department now, or call {emergency_number}"
            if item["disposition"] == "emergency"
            else "see a doctor within 24 hours"
        )
        _say(
            f"{item['patient']}: {item['disposition'].upper()} — do not prescribe; contact the "
            f"patient directly: they must {action}. Redirect: {out_dir / item['pdf']}"
        )
    elif item["status"] == "incomplete":
        _say(
            f"{item['patient']}: screening incomplete; nothing written. Ask these red-flag "
            "questions and record the answers:"
        )
        keys = [m.group(1) for line in item["errors"] if (m := _NOT_ANSWERED.search(line))]
        for line in _questions(keys):
            _say(line)
        return
    elif item["action"] == "removed":
        _say(
            f"{item['patient'] or item['profile']}: removed the earlier document, which no "
            "longer matches a valid, fully screened profile"
        )
    for problem in item["errors"]:
        _say(f"error: {problem}")


_NOT_ANSWERED = re.compile(r"red_flags\.(\w+): not answered")


def _questions(keys) -> list[str]:
    """Each red-flag question by its key and in its clinical words, one line each."""
    from hepplan.domain import redflags

    return [f"  red_flags.{key}: {redflags.BY_KEY[key].question}?" for key in keys]


def _report_missing(patient: str, missing) -> None:
    """Exit 4: the answers given would allow a program, but some questions were not asked."""
    _say(
        f"{patient}: screening incomplete; no program was written. "
        "Ask these red-flag questions and record the answers:"
    )
    for line in _questions(missing):
        _say(line)


def _report_unasked(patient: str, missing) -> None:
    """A refusal made before every question was asked: the rest are still to be asked."""
    if missing:
        _say(f"{patient}: not yet asked (listed on the redirect for the doctor too):")
        for line in _questions(missing):
            _say(line)


@cli.command()
@PROFILE
@click.option(
    "--to",
    "to_addr",
    metavar="ADDR",
    help="Send to this address. Default: patient.email from the profile.",
)
@smtp_options
@click.option(
    "--eml",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Write the exact message to FILE and send nothing.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Where to write the redirect document if the profile is refused. "
    "Default: <patient id>.pdf in the current folder.",
)
@LIBRARY
@CLINIC
@LARGE_PRINT
@reports_errors
def email(
    profile,
    to_addr,
    from_addr,
    smtp_host,
    smtp_port,
    security,
    user,
    eml,
    output,
    library_dir,
    clinic_file,
    large_print,
):
    """E-mail the patient's program as a PDF attachment.

    Only a prescribed program is ever sent. When red flags need medical care, nothing is sent:
    the redirect document is written here instead (exit 3) and you must contact the patient
    directly. The settings come from options, then HEPPLAN_SMTP_* environment variables, then
    the clinic file's smtp section. Connections are encrypted (STARTTLS, certificate checked).

    \b
    Example:
        export HEPPLAN_SMTP_PASSWORD=...        # never an option
        hepplan email patient.yaml --clinic clinic.yaml --smtp-host mail.example.org \\
            --user frontdesk
        hepplan email patient.yaml --clinic clinic.yaml --eml preview.eml
    """
    from hepplan import app as core
    from hepplan.deliver import mail
    from hepplan.errors import InputError
    from hepplan.io.output import check_output_path, output_file, write_atomic

    eml, output = output_file(eml), output_file(output)
    clinic = core.load_clinic(clinic_file)
    outcome = core.decide(profile, library_dir)  # screens before it reads the library
    decision = outcome.decision
    patient = outcome.profile.patient
    if decision.refused:  # never by e-mail: a redirect must not sit unread in an inbox
        output = output or Path.cwd() / f"{patient.id}.pdf"
        replaced = check_output_path(output, _inputs(profile, clinic_file, clinic))
        write_atomic(output, core.render_document(outcome, clinic, large_print=large_print))
        _report_refused_email(patient.id, decision, output, clinic.emergency_number, replaced)
        _report_unasked(patient.id, decision.missing)
        _report_library_problems(outcome)
        sys.exit(core.EXIT_REFUSED)
    if decision.status == "incomplete":
        _report_missing(patient.id, decision.missing)
        _say(f"{patient.id}: nothing was e-mailed")
        _report_library_problems(outcome)
        sys.exit(outcome.exit_code)

    if to_addr is None and patient.email is None:
        raise InputError(f"{profile}: patient.email is not set; give --to ADDR")
    recipient = mail.parse_address(
        to_addr if to_addr is not None else patient.email,
        "--to" if to_addr is not None else f"{profile}: patient.email",
        display_name=patient.name,
    )
    sender = _sender(clinic, clinic_file, from_addr)
    replaced = False
    if eml is not None:
        replaced = check_output_path(eml, _inputs(profile, clinic_file, clinic))
        transport = mail.EmlWriter(eml)
    else:
        transport = _transport(
            clinic,
            clinic_file,
            {
                "smtp_host": smtp_host,
                "smtp_port": smtp_port,
                "security": security,
                "user": user,
            },
            patient.id,
        )
    pdf = core.render_document(outcome, clinic, large_print=large_print)
    message = mail.build_message(
        outcome.profile, decision, clinic, pdf, sender=sender, recipient=recipient
    )
    result = transport.send(sender.addr_spec, recipient.addr_spec, message)
    if eml is None:
        _say(f"{patient.id}: program e-mailed to {recipient.addr_spec} ({result})")
    else:
        _say(f"{patient.id}: {result}{_replaced(replaced)}")


def _report_refused_email(
    patient: str, decision, output: Path, emergency_number: str, replaced: bool = False
) -> None:
    action = (
        f"go to the emergency department now, or call {emergency_number}"
        if decision.disposition == "emergency"
        else "see a doctor within 24 hours"
    )
    _say(
        f"{patient}: {decision.disposition.upper()} — do not prescribe "
        f"({', '.join(decision.triggered)}). Nothing was e-mailed."
    )
    _say(
        f"Contact the patient directly, by phone or in person, now: they must {action}. "
        f"Wrote the redirect document to {output}{_replaced(replaced)}; give it to them in person."
    )


def _clinic_label(clinic_file) -> str:
    return str(clinic_file) if clinic_file else "the built-in clinic settings"


def _sender(clinic, clinic_file, from_addr):
    """Who the e-mail is from; the clinic must have a phone number for the patient to call."""
    from hepplan.deliver import mail
    from hepplan.errors import InputError

    if not clinic.phone:
        raise InputError(
            f"{_clinic_label(clinic_file)}: phone: the e-mail tells the patient "
            "when to call the clinic, so the clinic file must give its phone number"
        )
    return mail.resolve_sender(from_addr, os.environ, clinic, _clinic_label(clinic_file))


def _transport(clinic, clinic_file, options, who: str):
    """The SMTP sender, every setting checked before any connection."""
    from hepplan.deliver import mail

    settings = mail.resolve_settings(options, os.environ, clinic, _clinic_label(clinic_file))
    return mail.SmtpSender(
        settings,
        on_retry=lambda reason, delay: _say(f"{who}: {reason}; trying again in {delay:g} s"),
    )


@cli.command()
@click.argument("profiles_dir", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="The folder for the documents: <patient id>.pdf each.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    help="Worker processes. Default: the number of cores.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on a Dask cluster, e.g. tcp://scheduler.example.org:8786 "
    "(pip install 'hepplan[dask]').",
)
@JSON_OUT
@LIBRARY
@CLINIC
@LARGE_PRINT
@click.option(
    "--email",
    "send_email",
    is_flag=True,
    help="E-mail each newly built program to patient.email (once per program).",
)
@smtp_options
@reports_errors
def batch(
    profiles_dir,
    out_dir,
    jobs,
    scheduler,
    as_json,
    library_dir,
    clinic_file,
    large_print,
    send_email,
    **smtp,
):
    """Build every patient's document from a folder of profiles, rebuilding only what changed.

    Reads every *.yaml, *.yml and *.json under PROFILES_DIR and writes OUT_DIR/<patient id>.pdf:
    the program, or the redirect when red flags need medical care. A manifest in
    OUT_DIR/.hepplan/ remembers what each document was made from, so a rerun rebuilds only
    the documents whose profile, exercises, clinic settings or templates changed. Safe to stop
    at any moment: a rerun finishes the work.

    \b
    Exit codes, the most pressing first: 1 an internal failure, 2 some profile invalid (the
    others are still built), 3 this run wrote a new or changed redirect (contact that patient),
    4 some profile's screening is incomplete, 0 otherwise.

    \b
    Example:
        hepplan batch profiles/ -o programs/ --clinic clinic.yaml
        hepplan batch profiles/ -o programs/ --json --jobs 4
        hepplan batch profiles/ -o programs/ --clinic clinic.yaml --email --user frontdesk
    """
    from hepplan import app as core
    from hepplan.batch import run as batching
    from hepplan.io.output import check_inputs_outside

    clinic = core.load_clinic(clinic_file)
    check_inputs_outside(out_dir, {"clinic file": clinic_file, "clinic's logo": clinic.logo})
    inputs = batching.Inputs(library_dir, clinic, large_print)
    mailer = None
    if send_email:
        sender = _sender(clinic, clinic_file, smtp.pop("from_addr"))
        transport = _transport(clinic, clinic_file, smtp, "e-mail")
        mailer = batching.Mailer(transport, sender)
    elif any(value is not None for value in smtp.values()):
        from hepplan.errors import InputError

        raise InputError("--from, --smtp-host, --smtp-port, --security and --user need --email")
    jobs = jobs or os.cpu_count() or 1
    with contextlib.ExitStack() as stack:

        def progress(total: int):
            if not sys.stderr.isatty():
                return None
            bar = click.progressbar(length=total, label="Building", file=sys.stderr)
            return stack.enter_context(bar).update

        report = batching.run(
            profiles_dir,
            out_dir,
            inputs=inputs,
            jobs=jobs,
            scheduler=scheduler,
            mailer=mailer,
            warn=_say,
            progress=progress,
        )
    try:
        for item in report.items():
            _report_batch_item(item, out_dir, clinic.emergency_number)
        if as_json:
            report.write_json(sys.stdout, with_email=send_email)
        _say(f"{out_dir}: {report.summary()}")
    finally:
        report.close()
    sys.exit(report.exit_code)


@cli.command()
@PROFILE
@JSON_OUT
@reports_errors
def screen(profile, as_json):
    """Run the red-flag screening alone and say what it means.

    \b
    Example:
        hepplan screen examples/profiles/cauda-equina-emergency.yaml
    """
    from hepplan.domain import redflags
    from hepplan.domain.screening import screen as run_screening
    from hepplan.errors import LibraryError
    from hepplan.io.library import load_library
    from hepplan.io.profiles import load_profile

    loaded = load_profile(profile)
    result = run_screening(loaded)
    if as_json:
        try:
            version = load_library().version
        except LibraryError:  # screening needs no library
            version = None
        click.echo(
            json.dumps(
                {
                    "status": result.status,
                    "disposition": result.disposition.word,
                    "triggered": list(result.triggered),
                    "missing": list(result.missing),
                    "library_version": version,
                    "phases": [],
                    "trace": list(result.trace),
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    patient = loaded.patient.id
    if result.status == "incomplete":
        _report_missing(patient, result.missing)
        sys.exit(4)
    word = result.disposition.word.upper()
    verdict = {
        "refused": "do not prescribe",
        "prescribed": "a program may be prescribed",
    }[result.status]
    lines = [f"{patient}: {word} — {verdict}"]
    for key in result.triggered:
        flag = redflags.BY_KEY[key]
        answer = loaded.red_flags.answer(key)
        given = f"answered {answer.value}" if loaded.red_flags.positive(key) else "by rule"
        lines.append(f"  {key} ({result.levels[key].word}, {given}): {flag.question}")
    if result.cleared:
        lines.append(f"  medically cleared: {', '.join(result.cleared)}")
    if result.missing:
        lines.append("  not yet asked:")
        lines += [f"  {line}" for line in _questions(result.missing)]
    output = "\n".join(lines)
    if as_json:
        _say(output)
    else:
        click.echo(output)
    sys.exit(3 if result.status == "refused" else 0)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Where to write the profile: YAML, or JSON for a .json name.",
)
@click.option(
    "--from",
    "previous",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="EXISTING",
    help="A follow-up visit: offer this profile's answers as defaults. The red flags "
    "and medical clearances are asked afresh.",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@reports_errors
def assess(output, previous, force):
    """Ask the assessment questions in the terminal and write the profile.

    Patient, findings, every red-flag question (none can be skipped), medical clearances and
    plan choices, then the screening result at once. The profile is written (exit 0) whatever
    the screening says; nothing is written unless every question is answered (end of input:
    exit 2; Ctrl-C: exit 130). Answers may also come from a pipe, one per line.

    \b
    Example:
        hepplan assess -o P-1008.yaml
        hepplan assess --from P-1008.yaml -o P-1008-week6.yaml
    """
    from hepplan.assess.interview import TerminalConsole
    from hepplan.assess.interview import assess as interview

    interview(output, TerminalConsole(), previous_path=previous, force=force)


@cli.command()
@reports_errors
def schema():
    """Print the profile's JSON Schema (draft 2020-12) on stdout.

    Every key with its description and allowed values, so another tool (an EHR form, a web
    intake) can check a profile before it reaches hepplan.

    \b
    Example:
        hepplan schema > profile.schema.json
    """
    from hepplan.assess.schema import profile_schema

    click.echo(json.dumps(profile_schema(), indent=2, ensure_ascii=False))


@cli.group()
def library() -> None:
    """Look at the exercise library."""


@library.command("list")
@JSON_OUT
@LIBRARY
@reports_errors
def library_list(as_json, library_dir):
    """List every exercise: id, name, category, targets, tags, equipment, phases.

    \b
    Example:
        hepplan library list
        hepplan library list --json
    """
    from hepplan.io.library import load_library

    lib = load_library(library_dir)
    rows = [
        {
            "id": ex.id,
            "name": ex.name,
            "category": ex.category.value,
            "targets": [t.value for t in ex.targets],
            "tags": [t.value for t in ex.tags],
            "equipment": [e.value for e in ex.equipment],
            "phases": list(ex.phases),
            "level": ex.level,
        }
        for ex in lib
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        click.echo(
            f"{row['id']:<28} {row['category']:<13} phases {','.join(map(str, row['phases'])):<6}"
            f" {row['name']}"
        )
        details = [
            "targets " + ", ".join(row["targets"]),
            "tags " + (", ".join(row["tags"]) or "-"),
            "equipment " + (", ".join(row["equipment"]) or "-"),
        ]
        click.echo(" " * 29 + "; ".join(details))
    click.echo(f"{len(rows)} exercises, library version {lib.version}")


@library.command("show")
@click.argument("exercise_id")
@LIBRARY
@reports_errors
def library_show(exercise_id, library_dir):
    """Show one exercise in full: its data, steps (as written, with {{ side }}) and sources.

    \b
    Example:
        hepplan library show clamshell
    """
    import difflib

    import yaml

    from hepplan.errors import InputError
    from hepplan.io.library import load_library

    lib = load_library(library_dir)
    if exercise_id not in lib:
        close = difflib.get_close_matches(exercise_id, list(lib.exercises), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see 'hepplan library list'"
        raise InputError(f"{exercise_id!r} is not an exercise in the library{hint}")
    data = lib[exercise_id].model_dump(mode="json")
    click.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())


@library.command("check")
@LIBRARY
@reports_errors
def library_check(library_dir):
    """Check a library is fit to print: schema and vocabulary, unique ids, links without
    loops, every text for every side, every picture, and reading level (Flesch-Kincaid grade
    at most 9 per exercise, median at most 7). Exit 0 only when clean, else 1.

    \b
    Example:
        hepplan library check
        hepplan library check --library my-exercises/
    """
    from hepplan.assess.library_check import MAX_MEDIAN_GRADE, check_library
    from hepplan.io.library import require_folder
    from hepplan.io.resources import default_library_dir

    directory = library_dir or default_library_dir()
    require_folder(directory)
    result = check_library(directory)
    for problem in result.problems:
        _say(f"error: {problem}")
    if not result.clean:
        _say(f"{directory}: {len(result.problems)} problem(s); the library is not fit to use")
        sys.exit(1)
    click.echo(
        f"{directory}: clean — {result.exercises} exercises, reading grade median "
        f"{result.median_grade:.1f} (at most {MAX_MEDIAN_GRADE:g}), highest "
        f"{max(result.grades.values()):.1f}"
    )


@library.command("pictures")
@click.argument("exercise_ids", nargs=-1)
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    default="pictures.pdf",
    show_default=True,
    help="Where to write the PDF.",
)
@LIBRARY
@reports_errors
def library_pictures(exercise_ids, output, library_dir):
    """Draw every exercise's start and end picture on one sheet, to check them by eye.

    \b
    Example:
        hepplan library pictures -o pictures.pdf
        hepplan library pictures clamshell bridge -o two.pdf
    """
    from hepplan.domain.clinic import Clinic
    from hepplan.errors import InputError
    from hepplan.io.library import load_library
    from hepplan.io.output import check_output_path, output_file, write_atomic
    from hepplan.render.pdf import render_pictures

    output = output_file(output)
    lib = load_library(library_dir)
    unknown = [i for i in exercise_ids if i not in lib]
    if unknown:
        raise InputError(f"not in the library: {', '.join(unknown)}")
    chosen = [lib[i] for i in exercise_ids] if exercise_ids else list(lib)
    check_output_path(output)
    write_atomic(output, render_pictures(chosen, Clinic()))
    _say(f"drew {len(chosen)} exercises to {output}")


def main() -> None:
    cli(prog_name="hepplan")


if __name__ == "__main__":
    main()

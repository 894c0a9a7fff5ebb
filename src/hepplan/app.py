"""The use cases, each one pipeline: plan, email, screen, batch, and the library commands.

Every command and the batch worker make a decision the same way (``decide``: load, screen,
then plan when screening allows it) and turn it into a document the same way (``render``).
Each use case returns its exit code and speaks through two callables: ``say`` for the lines a
clinician reads on the terminal (stderr) and ``echo`` for what a program reads (stdout), so the
command line only parses options. Heavy modules (reportlab, jinja2) are imported only by the
functions that render.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.library import Library
from hepplan.domain.planner import plan_program
from hepplan.domain.profile import Profile
from hepplan.domain.screening import screen as run_screening
from hepplan.errors import Exit, InputError, LibraryError, Status
from hepplan.io.clinic import load_clinic
from hepplan.io.library import load_library
from hepplan.io.profiles import load_profile

Say = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    profile: Profile
    decision: Decision
    #: An unusable library met while refusing: reported, but the redirect is still written.
    library_problems: tuple[str, ...] = ()
    #: Its exit code: 2 for a --library that is not a folder (the user's input), 1 when broken.
    library_code: Exit = Exit.INTERNAL

    @property
    def exit_code(self) -> Exit:
        if self.decision.refused:
            return Exit.REFUSED  # a known emergency is never held back by a broken library
        if self.library_problems:
            return self.library_code
        return self.decision.status.exit_code


def decide(profile_path: Path, library: Library | Path | None = None) -> Outcome:
    """Load a profile, screen it, and plan when screening allows it.

    ``library`` is a loaded library, or the folder to load one from (None: the shipped one).
    A folder is read only after screening, which needs no library (CLINICAL.md §1): when the
    screening refuses or is incomplete, a missing or broken library is reported in
    ``library_problems`` instead of stopping the redirect.
    """
    profile = load_profile(profile_path)
    screening = run_screening(profile)
    if not isinstance(library, Library):
        try:
            library = load_library(library)
        except (LibraryError, InputError) as exc:
            if screening.prescribed:
                raise
            decision = plan_program(profile, None, screening)  # a refusal needs no library
            return Outcome(profile, decision, tuple(exc.problems), exc.exit_code)
    decision = plan_program(profile, library, screening, source=str(profile_path))
    return Outcome(profile, decision)


def render(outcome: Outcome, clinic: Clinic, *, large_print: bool = False) -> bytes | None:
    """The handout (prescribed) or the redirect (refused); nothing for an incomplete screening."""
    from hepplan.render.pdf import render_document

    return render_document(outcome.profile, outcome.decision, clinic, large_print=large_print)


# --- plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Documents:
    """Where a command's documents go, and what they are made with."""

    clinic_file: Path | None = None
    library_dir: Path | None = None
    large_print: bool = False


@dataclass(frozen=True)
class Record:
    """Where ``plan`` writes the clinician record (CLINICAL.md §3): ``--record FILE``, by
    default ``<patient id>.record.pdf`` beside the patient's document, or none (``--no-record``)."""

    path: Path | None = None
    wanted: bool = True

    def place(self, document: Path, patient: str) -> Path | None:
        if not self.wanted:
            return None
        return self.path or document.parent / f"{patient}.record.pdf"


def record_choice(path: str | None, no_record: bool = False) -> Record:
    """``--record FILE`` or ``--no-record``: one of them at most."""
    from hepplan.io.output import output_file

    if path is not None and no_record:
        raise InputError("--record and --no-record cannot be used together; give one of them")
    return Record(output_file(path), wanted=not no_record)


@dataclass(frozen=True)
class Written:
    """What ``plan`` wrote: the patient's document, and the clinician record unless none was
    wanted; whether each replaced a file that was there."""

    document: Path
    replaced: bool
    record: Path | None = None
    record_replaced: bool = False

    def document_words(self) -> str:
        return f"{self.document}{_replaced(self.replaced)}"

    def record_words(self, joint: str) -> str:
        """`` and the clinician record<joint><path>``, or nothing when none was written."""
        if self.record is None:
            return ""
        return f" and the clinician record{joint}{self.record}{_replaced(self.record_replaced)}"


def plan(
    profile: Path,
    output: str | None,
    docs: Documents,
    record: Record = Record(),
    *,
    as_json: bool,
    say,
    echo,
) -> Exit:
    """``hepplan plan``: the handout, or the redirect, and the clinician record beside it;
    nothing at all for an incomplete screening."""
    from hepplan.io.output import output_file

    target = output_file(output)
    if target is not None and record.path is not None:
        _apart(record.path, target)  # a usage error: say so before reading anything
    clinic = load_clinic(docs.clinic_file)
    outcome = decide(profile, docs.library_dir)  # screens before it reads the library
    decision, patient = outcome.decision, outcome.profile.patient.id
    target = target or Path.cwd() / f"{patient}.pdf"
    written = Written(target, replaced=False)
    if decision.status is not Status.INCOMPLETE:
        inputs = _inputs(profile, docs.clinic_file, clinic)
        written = _write_plan(outcome, target, record.place(target, patient), inputs, clinic, docs)
    if as_json:
        from hepplan.words.catalog import words

        echo(decision.to_json(words(outcome.profile.patient.language)))
    _report_plan(say, patient, decision, written, clinic.emergency_number)
    _report_library_problems(say, outcome)
    return outcome.exit_code


def _apart(record: Path, document: Path) -> None:
    from hepplan.io.output import same_place

    if same_place(record, document):
        raise InputError(
            f"{record}: is where the patient's document goes too; give --record another file "
            "name, or use --no-record"
        )


def _write_plan(outcome: Outcome, target: Path, chart: Path | None, inputs, clinic, docs):
    """Check both paths, render both documents, then write both, each atomically: a failure
    at any step leaves neither written."""
    from hepplan.io.output import check_output_path, write_all_atomic
    from hepplan.render.record import chart_record

    written = Written(target, check_output_path(target, inputs))
    if chart is not None:
        _apart(chart, target)
        written = Written(target, written.replaced, chart, check_output_path(chart, inputs))
    files = [(target, render(outcome, clinic, large_print=docs.large_print))]
    if chart is not None:
        files.append((chart, chart_record(outcome.profile, outcome.decision, clinic)))
    write_all_atomic(files)
    return written


def _inputs(profile: Path, clinic_file: Path | None, clinic: Clinic) -> dict[str, Path | None]:
    """The files a command reads: no output may be one of them."""
    return {"profile": profile, "clinic file": clinic_file, "clinic's logo": clinic.logo}


def _replaced(replaced: bool) -> str:
    return " (it replaced the file that was there)" if replaced else ""


def _report_plan(say: Say, patient, decision, written: Written, emergency_number) -> None:
    from hepplan.words.text import what_to_do

    if decision.prescribed:
        extra = " — also book a routine doctor's check" if decision.see_doctor_about else ""
        say(
            f"{patient}: program prescribed (disposition {decision.disposition}); "
            f"wrote {written.document_words()}{written.record_words(' ')}{extra}"
        )
    elif decision.refused:
        say(
            f"{patient}: {decision.disposition.word.upper()} — do not prescribe "
            f"({', '.join(decision.triggered)}). The patient must "
            f"{what_to_do(decision.disposition, emergency_number)}. "
            f"Wrote the redirect document to {written.document_words()}"
            f"{written.record_words(' to ')}"
        )
        _report_unasked(say, patient, decision.missing)
    else:
        _report_missing(say, patient, decision.missing)


def _report_library_problems(say: Say, outcome: Outcome) -> None:
    """A refusal is written without the library; say what is wrong with it all the same."""
    if not outcome.library_problems:
        return
    for problem in outcome.library_problems:
        say(f"error: {problem}")
    patient = outcome.profile.patient.id
    if outcome.decision.refused:
        say(f"{patient}: the redirect needs no exercise library, so it was written anyway")
    else:
        say(f"{patient}: fix the exercise library before a program can be planned")


def questions(keys) -> list[str]:
    """Each red-flag question by its key and in its clinical words, one line each."""
    from hepplan.domain import redflags

    return [f"  red_flags.{key}: {redflags.BY_KEY[key].question}?" for key in keys]


def _report_missing(say: Say, patient: str, missing) -> None:
    """Exit 4: the answers given would allow a program, but some questions were not asked."""
    say(
        f"{patient}: screening incomplete; no program was written. "
        "Ask these red-flag questions and record the answers:"
    )
    for line in questions(missing):
        say(line)


def _report_unasked(say: Say, patient: str, missing) -> None:
    """A refusal made before every question was asked: the rest are still to be asked."""
    if missing:
        say(f"{patient}: not yet asked (listed on the redirect for the doctor too):")
        for line in questions(missing):
            say(line)


# --- email -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mailing:
    """How ``hepplan email`` sends: the options as given (None: from the environment or the
    clinic file), or an .eml file to write instead of sending."""

    to_addr: str | None = None
    from_addr: str | None = None
    smtp: dict | None = None  # smtp_host, smtp_port, security, user
    eml: str | None = None


def email(profile: Path, mailing: Mailing, output: str | None, docs: Documents, *, say) -> Exit:
    """``hepplan email``: the handout, and only a prescribed handout, as an attachment."""
    from hepplan.io.output import output_file

    eml, target = output_file(mailing.eml), output_file(output)
    clinic = load_clinic(docs.clinic_file)
    outcome = decide(profile, docs.library_dir)  # screens before it reads the library
    if outcome.decision.refused:  # never by e-mail: a redirect must not sit unread in an inbox
        _write_refused(say, outcome, profile, target, clinic, docs)
        return Exit.REFUSED
    if outcome.decision.status is Status.INCOMPLETE:
        _report_missing(say, outcome.profile.patient.id, outcome.decision.missing)
        say(f"{outcome.profile.patient.id}: nothing was e-mailed")
        _report_library_problems(say, outcome)
        return outcome.exit_code
    _send(say, outcome, profile, mailing, eml, clinic, docs)
    return Exit.OK


def _write_refused(say: Say, outcome, profile, target, clinic, docs: Documents) -> None:
    from hepplan.io.output import check_output_path, write_atomic
    from hepplan.words.text import what_to_do

    decision, patient = outcome.decision, outcome.profile.patient.id
    target = target or Path.cwd() / f"{patient}.pdf"
    replaced = check_output_path(target, _inputs(profile, docs.clinic_file, clinic))
    write_atomic(target, render(outcome, clinic, large_print=docs.large_print))
    say(
        f"{patient}: {decision.disposition.word.upper()} — do not prescribe "
        f"({', '.join(decision.triggered)}). Nothing was e-mailed."
    )
    say(
        "Contact the patient directly, by phone or in person, now: they must "
        f"{what_to_do(decision.disposition, clinic.emergency_number)}. Wrote the redirect "
        f"document to {target}{_replaced(replaced)}; give it to them in person."
    )
    _report_unasked(say, patient, decision.missing)
    _report_library_problems(say, outcome)


def _send(say: Say, outcome, profile, mailing: Mailing, eml, clinic, docs: Documents) -> None:
    from hepplan.deliver import mail
    from hepplan.io.output import check_output_path

    patient = outcome.profile.patient
    if mailing.to_addr is None and patient.email is None:
        raise InputError(f"{profile}: patient.email is not set; give --to ADDR")
    recipient = mail.parse_address(
        mailing.to_addr if mailing.to_addr is not None else patient.email,
        "--to" if mailing.to_addr is not None else f"{profile}: patient.email",
        display_name=patient.name,
    )
    sender = sender_of(clinic, docs.clinic_file, mailing.from_addr)
    replaced = False
    if eml is not None:
        replaced = check_output_path(eml, _inputs(profile, docs.clinic_file, clinic))
        transport = mail.EmlWriter(eml)
    else:
        transport = transport_of(clinic, docs.clinic_file, mailing.smtp or {}, patient.id, say)
    pdf = render(outcome, clinic, large_print=docs.large_print)
    message = mail.build_message(
        outcome.profile, outcome.decision, clinic, pdf, sender=sender, recipient=recipient
    )
    result = transport.send(sender.addr_spec, recipient.addr_spec, message)
    if eml is None:
        say(f"{patient.id}: program e-mailed to {recipient.addr_spec} ({result})")
    else:
        say(f"{patient.id}: {result}{_replaced(replaced)}")


def _clinic_label(clinic_file) -> str:
    return str(clinic_file) if clinic_file else "the built-in clinic settings"


def sender_of(clinic: Clinic, clinic_file, from_addr):
    """Who the e-mail is from; the clinic must have a phone number for the patient to call."""
    from hepplan.deliver import mail

    if not clinic.phone:
        raise InputError(
            f"{_clinic_label(clinic_file)}: phone: the e-mail tells the patient "
            "when to call the clinic, so the clinic file must give its phone number"
        )
    return mail.resolve_sender(from_addr, os.environ, clinic, _clinic_label(clinic_file))


def transport_of(clinic: Clinic, clinic_file, options: dict, who: str, say: Say):
    """The SMTP sender, every setting checked before any connection."""
    from hepplan.deliver import mail

    settings = mail.resolve_settings(options, os.environ, clinic, _clinic_label(clinic_file))
    return mail.SmtpSender(
        settings,
        on_retry=lambda reason, delay: say(f"{who}: {reason}; trying again in {delay:g} s"),
    )


# --- screen ------------------------------------------------------------------------------------


def screen(profile_path: Path, *, as_json: bool, say, echo) -> Exit:
    """``hepplan screen``: the red-flag screening alone, as the same decision ``plan`` gives."""
    profile = load_profile(profile_path)
    screening = run_screening(profile)
    if as_json:  # the decision's shape, without planning: no phases, no library
        echo(screening.as_decision().to_json())
    if screening.status is Status.INCOMPLETE:
        _report_missing(say, profile.patient.id, screening.missing)
        return Exit.INCOMPLETE
    lines = _screening_lines(profile, screening)
    for line in lines:
        (say if as_json else echo)(line)
    return screening.status.exit_code


def _screening_lines(profile: Profile, screening) -> list[str]:
    from hepplan.domain import redflags

    verdict = "do not prescribe" if screening.refused else "a program may be prescribed"
    lines = [f"{profile.patient.id}: {screening.disposition.word.upper()} — {verdict}"]
    for key in screening.triggered:
        answer = profile.red_flags.answer(key)
        given = f"answered {answer.value}" if profile.red_flags.positive(key) else "by rule"
        question = redflags.BY_KEY[key].question
        lines.append(f"  {key} ({screening.levels[key].word}, {given}): {question}")
    if screening.cleared:
        lines.append(f"  medically cleared: {', '.join(screening.cleared)}")
    if screening.missing:
        lines.append("  not yet asked:")
        lines += [f"  {line}" for line in questions(screening.missing)]
    return lines


# --- batch -------------------------------------------------------------------------------------


def batch(
    profiles_dir: Path, out_dir: Path, docs: Documents, options: dict, *, say, out, progress
) -> Exit:
    """``hepplan batch``: every profile of a folder to its document, incremental."""
    from hepplan.batch import run as batching
    from hepplan.io.output import check_inputs_outside

    clinic = load_clinic(docs.clinic_file)
    check_inputs_outside(out_dir, {"clinic file": docs.clinic_file, "clinic's logo": clinic.logo})
    inputs = batching.Inputs(docs.library_dir, clinic, docs.large_print)
    mailer = _batch_mailer(clinic, docs.clinic_file, options, say)
    report = batching.run(
        profiles_dir,
        out_dir,
        inputs=inputs,
        jobs=options["jobs"] or os.cpu_count() or 1,
        scheduler=options["scheduler"],
        mailer=mailer,
        warn=say,
        progress=progress,
    )
    with contextlib.closing(report):
        for item in report.items():
            _report_batch_item(say, item, out_dir, clinic.emergency_number)
        if options["as_json"]:
            report.write_json(out, with_email=mailer is not None)
        say(f"{out_dir}: {report.summary()}")
    return report.exit_code


def _batch_mailer(clinic: Clinic, clinic_file, options: dict, say: Say):
    from hepplan.batch import run as batching

    smtp = dict(options["smtp"])
    if options["send_email"]:
        sender = sender_of(clinic, clinic_file, smtp.pop("from_addr"))
        return batching.Mailer(transport_of(clinic, clinic_file, smtp, "e-mail", say), sender)
    if any(value is not None for value in smtp.values()):
        raise InputError("--from, --smtp-host, --smtp-port, --security and --user need --email")
    return None


def _report_batch_item(say: Say, item: dict, out_dir: Path, emergency_number: str) -> None:
    """What the clinician must act on: every refusal made this run, every problem."""
    from hepplan.domain.redflags import Level
    from hepplan.words.text import what_to_do

    if item["status"] == Status.REFUSED and item["action"] == "built":
        level = Level[item["disposition"].upper()]
        say(
            f"{item['patient']}: {level.word.upper()} — do not prescribe; contact the "
            f"patient directly: they must {what_to_do(level, emergency_number)}. "
            f"Redirect: {out_dir / item['pdf']}"
        )
        _report_unasked(say, item["patient"], item["missing"])
    elif item["status"] == Status.INCOMPLETE:
        say(
            f"{item['patient']}: screening incomplete; nothing written. Ask these red-flag "
            "questions and record the answers:"
        )
        for line in questions(item["missing"]):
            say(line)
        return
    elif item["action"] == "removed":
        say(
            f"{item['patient'] or item['profile']}: removed the earlier document, which no "
            "longer matches a valid, fully screened profile"
        )
    for problem in item["errors"]:
        say(f"error: {problem}")


def assess(output: Path, previous: Path | None, *, force: bool) -> Exit:
    """``hepplan assess``: the interview in this terminal; the profile is written at the end."""
    from hepplan.assess.interview import TerminalConsole
    from hepplan.assess.interview import assess as interview

    interview(output, TerminalConsole(), previous_path=previous, force=force)
    return Exit.OK


def schema(*, echo) -> Exit:
    """``hepplan schema``: the profile's JSON Schema."""
    from hepplan.assess.schema import profile_schema

    echo(json.dumps(profile_schema(), indent=2, ensure_ascii=False))
    return Exit.OK


# --- the library -------------------------------------------------------------------------------


def library_rows(library: Library) -> list[dict]:
    """``library list --json``: one object per exercise."""
    return [
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
        for ex in library
    ]


def library_list(library_dir: Path | None, *, as_json: bool, echo) -> Exit:
    library = load_library(library_dir)
    rows = library_rows(library)
    if as_json:
        echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return Exit.OK
    for row in rows:
        phases = ",".join(map(str, row["phases"]))
        echo(f"{row['id']:<28} {row['category']:<13} phases {phases:<6} {row['name']}")
        details = [
            "targets " + ", ".join(row["targets"]),
            "tags " + (", ".join(row["tags"]) or "-"),
            "equipment " + (", ".join(row["equipment"]) or "-"),
        ]
        echo(" " * 29 + "; ".join(details))
    echo(f"{len(rows)} exercises, library version {library.version}")
    return Exit.OK


def library_show(exercise_id: str, library_dir: Path | None, *, echo) -> Exit:
    import difflib

    import yaml

    library = load_library(library_dir)
    if exercise_id not in library:
        close = difflib.get_close_matches(exercise_id, list(library.exercises), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see 'hepplan library list'"
        raise InputError(f"{exercise_id!r} is not an exercise in the library{hint}")
    data = library[exercise_id].model_dump(mode="json")
    echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).rstrip())
    return Exit.OK


def library_check(library_dir: Path | None, *, say, echo) -> Exit:
    from hepplan.assess.library_check import MAX_MEDIAN_GRADE, check_library
    from hepplan.io.library import require_folder
    from hepplan.io.resources import default_library_dir

    directory = library_dir or default_library_dir()
    require_folder(directory)
    result = check_library(directory)
    for problem in result.problems:
        say(f"error: {problem}")
    if not result.clean:
        say(f"{directory}: {len(result.problems)} problem(s); the library is not fit to use")
        return Exit.INTERNAL
    echo(
        f"{directory}: clean — {result.exercises} exercises, reading grade median "
        f"{result.median_grade:.1f} (at most {MAX_MEDIAN_GRADE:g}), highest "
        f"{max(result.grades.values()):.1f}"
    )
    return Exit.OK


def library_pictures(ids, output: str, library_dir: Path | None, *, say) -> Exit:
    from hepplan.io.output import check_output_path, output_file, write_atomic
    from hepplan.render.pdf import render_pictures

    target = output_file(output)
    library = load_library(library_dir)
    unknown = [i for i in ids if i not in library]
    if unknown:
        raise InputError(f"not in the library: {', '.join(unknown)}")
    chosen = [library[i] for i in ids] if ids else list(library)
    check_output_path(target)
    write_atomic(target, render_pictures(chosen, Clinic()))
    say(f"drew {len(chosen)} exercises to {target}")
    return Exit.OK

"""`hepplan email` against real SMTP servers (aiosmtpd on 127.0.0.1): what the patient receives,
what is never sent, and how faults are reported."""

from __future__ import annotations

import json
import re
import socket
import stat
from email import message_from_bytes, policy
from email.utils import parsedate_to_datetime

import pytest
import trustme
import yaml

from hepplan.cli import cli
from hepplan.deliver import mail

from .conftest import EXAMPLES, REPO, profile_data
from .smtp import PASSWORD, USER, Inbox, free_port, mail_server, server_context

CLINIC = REPO / "examples" / "clinic.yaml"
SHIPPED_DELAYS = mail.RETRY_DELAYS
TIGHT = EXAMPLES / "tight-piriformis.yaml"
EMERGENCY = EXAMPLES / "cauda-equina-emergency.yaml"
INCOMPLETE = EXAMPLES / "screening-incomplete.yaml"
CLINICAL = re.compile(
    r"pain|sciatic|piriformis|nerve|radicul|lumbar|back|hip|leg|glute", re.IGNORECASE
)


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch):
    """No SMTP settings leak in from the machine running the tests; retries do not wait."""
    for key in ("HOST", "PORT", "SECURITY", "USER", "FROM", "PASSWORD"):
        monkeypatch.delenv(f"HEPPLAN_SMTP_{key}", raising=False)
    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.01, 0.02, 0.04))


@pytest.fixture
def ca():
    return trustme.CA()


@pytest.fixture
def trust(monkeypatch, tmp_path):
    """Trust a test CA, for this test only, the way any OpenSSL program can be told to."""

    def use(ca):
        bundle = tmp_path / "test-ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    return use


def send(runner, port, *args, profile=TIGHT, security="none", env=None):
    command = [
        "email",
        str(profile),
        "--clinic",
        str(CLINIC),
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(port),
        "--security",
        security,
        *args,
    ]
    return runner.invoke(cli, command, env=env or {})


def parsed(envelope):
    return message_from_bytes(envelope.content, policy=policy.default)


def planned_pdf(runner, tmp_path, profile=TIGHT, *extra):
    out = tmp_path / "planned.pdf"
    result = runner.invoke(
        cli, ["plan", str(profile), "--clinic", str(CLINIC), "-o", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return out.read_bytes()


# --- what the patient receives ----------------------------------------------------------------


def test_plain_delivery_to_a_local_server(runner, tmp_path):
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "P-1001: program e-mailed to jordan.avery@example.org (the mail server at "
        f"127.0.0.1:{port} accepted the message)\n"
    )
    [envelope] = inbox.received
    assert envelope.mail_from == "frontdesk@riverside-pt.example.org"
    assert envelope.rcpt_tos == ["jordan.avery@example.org"]

    message = parsed(envelope)
    assert message["From"] == "Riverside Physical Therapy <frontdesk@riverside-pt.example.org>"
    assert message["To"] == "Jordan Avery <jordan.avery@example.org>"
    assert message["Subject"] == "Your home exercise program from Riverside Physical Therapy"
    assert "Reply-To" not in message
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@riverside-pt\.example\.org>", message["Message-ID"])
    assert message.get_content_type() == "multipart/mixed"

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Hello Jordan," in body
        assert "home-program-P-1001.pdf" in body
        assert "November 18, 2026 with Sam Lee, DPT" in body
        assert "Start with step 1." in body
        assert "Stop if your pain goes above 5 out of 10." in body
        assert "(555) 010-2040" in body
        assert "Go to the emergency department now, or call 911, if:" in body
        assert "You leak pee or poop and can't stop it." in body or (
            "You leak pee or poop and can&#39;t stop it." in body
        )
        assert "12 Mill Lane, Springfield" in body
        assert "Avery" not in body  # first name only

    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "home-program-P-1001.pdf"
    assert attachment.get_content() == planned_pdf(runner, tmp_path)


def pdf_text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def sent_pdfs(envelope) -> list[bytes]:
    """Every PDF in the message as the server received it, wherever it sits in the MIME tree."""
    message = parsed(envelope)
    return [
        part.get_content()
        for part in message.walk()
        if part.get_content_type() == "application/pdf"
    ]


def plan_both(runner, tmp_path) -> tuple[str, str, list[str]]:
    """What ``plan`` writes for the same profile: the handout's text, the record's text, and
    the decision's trace."""
    handout, record = tmp_path / "handout.pdf", tmp_path / "record.pdf"
    args = ["plan", str(TIGHT), "--clinic", str(CLINIC), "-o", str(handout)]
    done = runner.invoke(cli, [*args, "--record", str(record), "--json"])
    assert done.exit_code == 0, done.output
    trace = json.loads(done.stdout)["trace"]
    return pdf_text(handout.read_bytes()), pdf_text(record.read_bytes()), trace


def test_the_one_attachment_is_the_handout_never_the_record(runner, tmp_path, monkeypatch):
    """CONTRACT.md §2: e-mail sends the handout alone. Exactly one PDF reaches the server, its
    text is the handout's, nothing of the clinician record is in it, and e-mail writes no
    record (nor any file) of its own."""
    monkeypatch.chdir(tmp_path)
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port)
    assert result.exit_code == 0, result.output
    assert list(tmp_path.iterdir()) == []
    [envelope] = inbox.received
    [pdf] = sent_pdfs(envelope)
    assert [a.get_content() for a in parsed(envelope).iter_attachments()] == [pdf]
    handout, record, _ = plan_both(runner, tmp_path)
    sent = pdf_text(pdf)
    assert sent == handout
    for only_in_the_record in (
        "Clinician record",
        "Red-flag screening",
        "[saddle_anesthesia, emergency]",
        "Program prescribed (disposition: none)",
        "hepplan 0.1.0",
    ):
        assert only_in_the_record in record
        assert only_in_the_record not in sent


def test_the_attachment_holds_no_trace_and_no_rule_id(runner, tmp_path):
    inbox = Inbox()
    with mail_server(inbox) as port:
        assert send(runner, port).exit_code == 0
    [pdf] = sent_pdfs(inbox.received[0])
    sent = pdf_text(pdf)
    _, record, trace = plan_both(runner, tmp_path)
    rules = {line.split(":", 1)[0] for line in trace}
    assert rules and all(rule in record for rule in rules)
    assert "Decision trace" not in sent
    assert [rule for rule in sorted(rules) if rule in sent] == []


def test_the_subject_and_file_name_give_nothing_clinical_away(runner):
    inbox = Inbox()
    with mail_server(inbox) as port:
        for profile in (
            "tight-piriformis.yaml",
            "l5-radiculopathy.yaml",
            "stenosis-older-adult.yaml",
            "overstretched-weak-glutes.yaml",
        ):
            result = send(runner, port, "--to", "pat@example.org", profile=EXAMPLES / profile)
            assert result.exit_code == 0, result.output
    assert len(inbox.received) == 4
    for envelope in inbox.received:
        message = parsed(envelope)
        assert not CLINICAL.search(message["Subject"])
        [attachment] = message.iter_attachments()
        assert not CLINICAL.search(attachment.get_filename())


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        (
            "Riverside Physical Therapy",
            "Your home exercise program from Riverside Physical Therapy",
        ),
        ("Back Pain Clinic", "Your home exercise program"),
        ("Sciatica & Spine Centre", "Your home exercise program"),
        ("Hip and Knee Physio", "Your home exercise program"),
        (None, "Your home exercise program"),
    ],
)
def test_a_clinic_name_with_clinical_words_stays_out_of_the_subject(name, subject):
    from hepplan.domain.clinic import Clinic

    assert mail.subject(Clinic(name=name)) == subject


def test_the_large_print_attachment_matches_plan_large_print(runner, tmp_path):
    inbox = Inbox()
    with mail_server(inbox) as port:
        assert send(runner, port, "--large-print").exit_code == 0
    [attachment] = parsed(inbox.received[0]).iter_attachments()
    assert attachment.get_content() == planned_pdf(runner, tmp_path, TIGHT, "--large-print")


def test_a_routine_concern_is_mentioned_without_naming_it(runner, write_profile):
    profile = write_profile(
        profile_data(
            patient={"email": "pat@example.org"}, red_flags={"unrelenting_night_pain": "yes"}
        )
    )
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, profile=profile)
    assert result.exit_code == 0, result.output
    text = parsed(inbox.received[0]).get_body(("plain",)).get_content()
    assert "book a routine visit with your doctor" in text
    assert "night" not in text


def test_names_are_escaped_in_html_and_encoded_in_headers(runner, write_profile, tmp_path):
    profile = write_profile(
        profile_data(patient={"name": '<b>José</b> & "Zoë" 山田 🙂', "email": "jose@example.org"})
    )
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        yaml.safe_dump(
            {
                "name": "Café <script>alert(1)</script> PT",
                "phone": "555 0100",
                "email": "desk@example.org",
            }
        ),
        encoding="utf-8",
    )
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = runner.invoke(
            cli,
            [
                "email",
                str(profile),
                "--clinic",
                str(clinic),
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(port),
                "--security",
                "none",
            ],
        )
    assert result.exit_code == 0, result.output
    raw = inbox.received[0].content
    assert raw.isascii()  # every header encoded, every body quoted-printable
    message = parsed(inbox.received[0])
    assert message["To"].addresses[0].display_name == '<b>José</b> & "Zoë" 山田 🙂'
    assert message["From"].addresses[0].display_name == "Café <script>alert(1)</script> PT"
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "<b>José" not in html
    assert "Hello &lt;b&gt;José&lt;/b&gt;," in html
    assert "Café &lt;script&gt;alert(1)&lt;/script&gt; PT" in html
    text = message.get_body(("plain",)).get_content()
    assert "Hello <b>José</b>," in text


# --- what is never sent -----------------------------------------------------------------------


def test_a_refused_profile_sends_nothing_and_writes_the_redirect(runner, tmp_path):
    inbox = Inbox()
    out = tmp_path / "redirect.pdf"
    with mail_server(inbox) as port:
        result = send(runner, port, "--to", "pat@example.org", "-o", str(out), profile=EMERGENCY)
    assert result.exit_code == 3
    assert inbox.received == [] and inbox.data_commands == 0
    assert result.stderr.splitlines() == [
        "P-1005: EMERGENCY — do not prescribe (bladder_dysfunction, saddle_anesthesia). "
        "Nothing was e-mailed.",
        "Contact the patient directly, by phone or in person, now: they must go to the "
        f"emergency department now, or call 911. Wrote the redirect document to {out}; give it "
        "to them in person.",
    ]
    from pypdf import PdfReader

    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(out).pages)
    assert "Go to the emergency department now." in text
    assert "no exercise program was given" in text


def test_a_refused_profile_sends_nothing_even_with_eml(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        cli, ["email", str(EMERGENCY), "--to", "pat@example.org", "--eml", str(tmp_path / "m.eml")]
    )
    assert result.exit_code == 3
    assert not (tmp_path / "m.eml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P-1005.pdf"]


def test_an_incomplete_screening_sends_and_writes_nothing(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, "--to", "pat@example.org", profile=INCOMPLETE)
    assert result.exit_code == 4
    assert "nothing was e-mailed" in result.stderr
    assert inbox.data_commands == 0
    assert list(tmp_path.iterdir()) == []


# --- TLS and login ----------------------------------------------------------------------------


def test_starttls_with_a_trusted_certificate_and_login(runner, ca, trust):
    trust(ca)
    inbox = Inbox()
    with mail_server(inbox, tls=server_context(ca), auth=True) as port:
        result = send(
            runner,
            port,
            "--user",
            USER,
            security="starttls",
            env={"HEPPLAN_SMTP_PASSWORD": PASSWORD},
        )
    assert result.exit_code == 0, result.output
    assert inbox.logins == [(USER, True)]
    [envelope] = inbox.received
    assert parsed(envelope)["To"] == "Jordan Avery <jordan.avery@example.org>"
    assert PASSWORD not in result.output


def test_starttls_is_the_default_and_checks_the_certificate(runner, ca):
    inbox = Inbox()  # the test CA is not trusted here
    with mail_server(inbox, tls=server_context(ca)) as port:
        result = runner.invoke(
            cli,
            [
                "email",
                str(TIGHT),
                "--clinic",
                str(CLINIC),
                "--smtp-host",
                "127.0.0.1",
                "--smtp-port",
                str(port),
            ],
        )
    assert result.exit_code == 1
    assert inbox.data_commands == 0
    assert result.stderr == (
        f"error: the certificate of the mail server at 127.0.0.1:{port} could not be verified "
        "(unable to get local issuer certificate); the program was not sent\n"
    )


def test_ssl_from_the_first_byte(runner, ca, trust):
    trust(ca)
    inbox = Inbox()
    with mail_server(inbox, implicit_tls=server_context(ca)) as port:
        result = send(runner, port, security="ssl")
    assert result.exit_code == 0, result.output
    assert len(inbox.received) == 1


def test_a_server_without_starttls_gets_nothing(runner):
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, security="starttls")
    assert result.exit_code == 1
    assert inbox.data_commands == 0
    assert result.stderr == (
        f"error: the mail server at 127.0.0.1:{port} does not offer STARTTLS, so the program "
        "cannot be sent encrypted; the program was not sent\n"
    )


def test_a_failed_login_stops_at_once_and_never_shows_the_password(runner, ca, trust):
    trust(ca)
    inbox = Inbox()
    wrong = "wrong-Pa55word-123"
    with mail_server(inbox, tls=server_context(ca), auth=True) as port:
        result = send(
            runner, port, "--user", USER, security="starttls", env={"HEPPLAN_SMTP_PASSWORD": wrong}
        )
    assert result.exit_code == 1
    assert inbox.logins == [(USER, False)]  # once: no retries
    assert inbox.data_commands == 0
    assert result.stderr == (
        f"error: the mail server at 127.0.0.1:{port} did not accept the login for user "
        f"{USER}: 535 5.7.8 Authentication credentials invalid; the program was not sent\n"
    )
    assert wrong not in result.output


def test_there_is_no_password_option(runner):
    result = runner.invoke(cli, ["email", str(TIGHT), "--password", "x"])
    assert result.exit_code == 2
    assert "No such option '--password'" in result.stderr


# --- faults -----------------------------------------------------------------------------------


def test_a_busy_server_is_tried_again_until_it_accepts(runner):
    inbox = Inbox(
        data_replies=[
            "451 4.3.0 Mail server busy, try again later",
            "421 4.3.2 Service not available",
        ]
    )
    with mail_server(inbox) as port:
        result = send(runner, port)
    assert result.exit_code == 0, result.output
    assert inbox.data_commands == 3
    assert len(inbox.received) == 1
    assert result.stderr.splitlines()[:2] == [
        "P-1001: the server said 451 4.3.0 Mail server busy, try again later; trying again "
        "in 0.01 s",
        "P-1001: the server said 421 4.3.2 Service not available; trying again in 0.02 s",
    ]


def test_a_server_that_stays_busy_is_given_up_after_three_retries(runner):
    inbox = Inbox(data_replies=["451 4.3.0 Try again later"] * 10)
    with mail_server(inbox) as port:
        result = send(runner, port)
    assert result.exit_code == 1
    assert inbox.data_commands == 4
    assert inbox.received == []
    assert result.stderr.splitlines()[-1] == (
        f"error: could not deliver to the mail server at 127.0.0.1:{port} after 4 attempts "
        "(the server said 451 4.3.0 Try again later); the program was not sent"
    )


@pytest.mark.parametrize(
    ("inbox", "what"),
    [
        (
            Inbox(data_replies=["554 5.7.1 Message rejected as spam"]),
            "refused the message: 554 5.7.1 Message rejected as spam",
        ),
        (
            Inbox(rcpt_replies=["550 5.1.1 No such mailbox"]),
            "refused the recipient jordan.avery@example.org: 550 5.1.1 No such mailbox",
        ),
    ],
)
def test_a_5xx_reply_stops_at_once_and_quotes_the_server(runner, inbox, what):
    with mail_server(inbox) as port:
        result = send(runner, port)
    assert result.exit_code == 1
    assert inbox.received == []
    assert inbox.data_commands <= 1
    assert result.stderr == (
        f"error: the mail server at 127.0.0.1:{port} {what}; the program was not sent\n"
    )


def test_a_refused_connection_is_retried_then_reported(runner):
    port = free_port()  # nothing listens here
    result = send(runner, port)
    assert result.exit_code == 1
    assert result.stderr.count("the connection was refused; trying again in") == 3
    assert result.stderr.splitlines()[-1] == (
        f"error: could not deliver to the mail server at 127.0.0.1:{port} after 4 attempts "
        "(the connection was refused); the program was not sent"
    )


def test_a_silent_server_times_out_and_is_retried(runner, monkeypatch):
    monkeypatch.setattr(mail, "TIMEOUT_S", 0.2)
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        result = send(runner, silent.getsockname()[1])
    assert result.exit_code == 1
    assert result.stderr.count("no answer within 0.2 s; trying again") == 3
    assert "after 4 attempts (no answer within 0.2 s)" in result.stderr


def test_retries_back_off():
    assert len(SHIPPED_DELAYS) == 3  # three retries after the first attempt
    assert SHIPPED_DELAYS[0] > 0 and list(SHIPPED_DELAYS) == sorted(set(SHIPPED_DELAYS))


@pytest.mark.parametrize(
    ("security", "port"), [(None, 587), ("starttls", 587), ("ssl", 465), ("none", 25)]
)
def test_default_ports(security, port):
    from hepplan.domain.clinic import Clinic

    settings = mail.resolve_settings(
        {"smtp_host": "localhost", "security": security}, {}, Clinic(), "clinic.yaml"
    )
    assert (settings.security, settings.port) == (security or "starttls", port)


# --- settings: options, environment, clinic file ------------------------------------------------


def write_clinic(tmp_path, **smtp):
    data = yaml.safe_load(CLINIC.read_text(encoding="utf-8"))
    data["smtp"] = smtp
    path = tmp_path / "clinic.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_settings_from_the_clinic_file(runner, tmp_path):
    inbox = Inbox()
    with mail_server(inbox) as port:
        clinic = write_clinic(
            tmp_path,
            host="127.0.0.1",
            port=port,
            security="none",
            **{"from": "Riverside PT <news@riverside-pt.example.org>"},
        )
        result = runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(clinic)])
    assert result.exit_code == 0, result.output
    message = parsed(inbox.received[0])
    assert message["From"] == "Riverside PT <news@riverside-pt.example.org>"
    assert message["Reply-To"] == (
        "Riverside Physical Therapy <frontdesk@riverside-pt.example.org>"
    )


def test_environment_wins_over_the_file_and_options_over_the_environment(runner, tmp_path):
    dead = free_port()
    inbox = Inbox()
    with mail_server(inbox) as port:
        clinic = write_clinic(tmp_path, host="127.0.0.1", port=dead, security="none")
        env = {"HEPPLAN_SMTP_PORT": str(port)}
        assert (
            runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(clinic)], env=env).exit_code
            == 0
        )
        env = {"HEPPLAN_SMTP_PORT": str(dead)}
        assert (
            runner.invoke(
                cli,
                ["email", str(TIGHT), "--clinic", str(clinic), "--smtp-port", str(port)],
                env=env,
            ).exit_code
            == 0
        )
        env = {"HEPPLAN_SMTP_FROM": "env@riverside-pt.example.org"}
        assert (
            runner.invoke(
                cli,
                ["email", str(TIGHT), "--clinic", str(clinic), "--smtp-port", str(port)],
                env=env,
            ).exit_code
            == 0
        )
    assert len(inbox.received) == 3
    assert inbox.received[2].mail_from == "env@riverside-pt.example.org"


def test_a_password_in_the_clinic_file_is_refused(runner, tmp_path):
    clinic = write_clinic(tmp_path, host="mail.example.org", user="desk", password="hunter22")
    result = runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(clinic)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {clinic}: smtp: a password must not be kept in the clinic file; set the "
        "HEPPLAN_SMTP_PASSWORD environment variable instead\n"
    )
    assert "hunter22" not in result.output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            [],
            {},
            "no mail server: give --smtp-host, set HEPPLAN_SMTP_HOST, or add smtp.host to "
            "the clinic file",
        ),
        (
            ["--smtp-host", "mail.example.org", "--user", "desk"],
            {},
            "HEPPLAN_SMTP_PASSWORD is not set; it must hold the password for user desk",
        ),
        (
            ["--smtp-host", "mail.example.org"],
            {"HEPPLAN_SMTP_PASSWORD": "pw-123456"},
            "HEPPLAN_SMTP_PASSWORD is set but no user is given; "
            "give --user, set HEPPLAN_SMTP_USER, "
            "or add smtp.user to the clinic file",
        ),
        (
            ["--smtp-host", "mail.example.org"],
            {"HEPPLAN_SMTP_PORT": "smtp"},
            "HEPPLAN_SMTP_PORT: 'smtp' is not a port number (1-65535)",
        ),
        (
            ["--smtp-host", "mail.example.org"],
            {"HEPPLAN_SMTP_SECURITY": "tls"},
            "HEPPLAN_SMTP_SECURITY: 'tls' is not allowed; use starttls, ssl or none",
        ),
    ],
)
def test_incomplete_or_wrong_settings(runner, args, env, message):
    result = runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(CLINIC), *args], env=env)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert "pw-123456" not in result.output


@pytest.mark.parametrize(
    "host", ["mail.example.org", "10.0.0.5", "127.0.0.1.example.org", "0.0.0.0", "[::2]"]
)
def test_plain_smtp_to_another_machine_is_refused_before_connecting(runner, monkeypatch, host):
    def no_connections(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_connections)
    result = runner.invoke(
        cli,
        ["email", str(TIGHT), "--clinic", str(CLINIC), "--smtp-host", host, "--security", "none"],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --security none would send the patient's program unencrypted to {host}; it "
        "is allowed only for a mail server on this machine (localhost, 127.0.0.0/8 or ::1). "
        "Use starttls or ssl\n"
    )


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_hosts(host):
    assert mail.is_loopback(host)


# --- addresses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--to", "pat@example.org\r\nBcc: everyone@example.org"),
        ("--to", "pat@example.org\nBcc: everyone@example.org"),
        ("--to", "Pat\r\nBcc: x@example.org <pat@example.org>"),
        ("--from", "desk@example.org\rBcc: everyone@example.org"),
        ("--from", "Desk\n <desk@example.org>"),
    ],
)
def test_line_breaks_in_addresses_are_refused(runner, option, value):
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, option, value)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {option}: an e-mail address must not contain line breaks or control characters\n"
    )
    assert inbox.data_commands == 0


@pytest.mark.parametrize(
    "value",
    [
        "not-an-address",
        "pat@localhost",
        "pat@@example.org",
        "pat@example..org",
        ".pat@example.org",
        "pat@exa mple.org",
        "Pat <pat@example.org",
        "pat@example.org, eve@example.org",
        "",
        "<>",
    ],
)
def test_invalid_addresses_are_refused(runner, value):
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, "--to", value)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --to: {value!r} is not an e-mail address like name@example.org\n"
    )
    assert inbox.data_commands == 0


def test_to_accepts_a_display_name(runner):
    inbox = Inbox()
    with mail_server(inbox) as port:
        result = send(runner, port, "--to", "Jo Avery (mum) <jo@example.org>")
    assert result.exit_code == 0, result.output
    assert parsed(inbox.received[0])["To"].addresses[0].display_name == "Jo Avery (mum)"
    assert inbox.received[0].rcpt_tos == ["jo@example.org"]


def test_no_address_to_send_to(runner, write_profile):
    profile = write_profile(profile_data())
    result = runner.invoke(
        cli, ["email", str(profile), "--clinic", str(CLINIC), "--smtp-host", "127.0.0.1"]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: {profile}: patient.email is not set; give --to ADDR\n"


def test_the_clinic_phone_is_required(runner, tmp_path):
    result = runner.invoke(cli, ["email", str(TIGHT), "--eml", str(tmp_path / "m.eml")])
    assert result.exit_code == 2
    assert not (tmp_path / "m.eml").exists()
    assert result.stderr.splitlines() == [
        "error: the built-in clinic settings: phone: the e-mail tells the patient when to call "
        "the clinic, so the clinic file must give its phone number",
    ]


# --- the dry-run twin -------------------------------------------------------------------------


def test_eml_writes_exactly_what_the_server_would_receive(runner, tmp_path):
    eml = tmp_path / "message.eml"
    result = runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(CLINIC), "--eml", str(eml)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"P-1001: wrote the message to {eml}; nothing was sent\n"
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600

    inbox = Inbox()
    with mail_server(inbox) as port:
        assert send(runner, port).exit_code == 0
    volatile = re.compile(rb"^(Date|Message-ID): .*\r\n", re.MULTILINE)
    written, received = eml.read_bytes(), inbox.received[0].content
    assert b"\r\n" in written and b"\n" not in written.replace(b"\r\n", b"")
    assert volatile.sub(b"", written) == volatile.sub(b"", received)


def test_eml_into_a_missing_folder(runner, tmp_path):
    target = tmp_path / "missing" / "m.eml"
    result = runner.invoke(
        cli, ["email", str(TIGHT), "--clinic", str(CLINIC), "--eml", str(target)]
    )
    assert result.exit_code == 2
    assert result.stderr == f"error: {target}: the folder {target.parent} does not exist\n"
    assert not target.parent.exists()


def test_the_bodies_read_at_grade_7_or_below(library):
    from hepplan.app import decide
    from hepplan.assess.library_check import reading_grade
    from hepplan.io.clinic import load_clinic

    outcome = decide(TIGHT, library)
    text, _ = mail.bodies(outcome.profile, outcome.decision, load_clinic(CLINIC))
    sentences = [
        line.strip("- ")
        for line in text.splitlines()
        if line.strip() and not line.isupper() and ":" not in line[:12]
    ]
    assert reading_grade(sentences) <= 7


def test_mistakes_in_the_clinic_smtp_section(runner, tmp_path):
    clinic = write_clinic(tmp_path, hots="mail.example.org", port=99999, security="tls")
    result = runner.invoke(cli, ["email", str(TIGHT), "--clinic", str(clinic)])
    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()) == [
        f"error: {clinic}: smtp.hots: is not a known key; allowed here: host, port, security, "
        "user, from",
        f"error: {clinic}: smtp.port: input should be less than or equal to 65535; given 99999",
        f"error: {clinic}: smtp.security: input should be 'starttls', 'ssl' or 'none'; given 'tls'",
    ]

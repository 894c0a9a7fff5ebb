"""E-mail delivery: the settings, the message, and two senders with one interface.

``SmtpSender`` delivers to a mail server; ``EmlWriter`` is its dry-run twin and writes the
same bytes to a file. The message is built once, as bytes, so what ``--eml`` writes is
exactly what the server would receive.

Only a prescribed program is ever e-mailed. The caller decides that; this module never sees
a refused decision.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.profile import Profile
from hepplan.errors import DeliveryError, InputError
from hepplan.io.output import write_atomic

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORT = {"starttls": 587, "ssl": 465, "none": 25}
#: Seconds to wait before the first, second and third retry of a transient failure.
RETRY_DELAYS = (2.0, 5.0, 10.0)
#: Seconds one attempt may take in all, from connecting to the server's last reply, however
#: slowly the server sends. ``HEPPLAN_SMTP_TIMEOUT`` sets another (1 to 300).
TIMEOUT_S = 30.0
TIMEOUT_RANGE = (1.0, 300.0)
ENV = "HEPPLAN_SMTP_"
PASSWORD_ENV = "HEPPLAN_SMTP_PASSWORD"

#: Words that would tell anyone who sees the subject line why the patient was seen.
CLINICAL_WORDS = re.compile(
    r"\b(pain\w*|sciatic\w*|piriformis|nerves?|neur\w*|spin\w*|back|lumbar|hips?|buttocks?|"
    r"legs?|dis[ck]s?|injur\w*|ortho\w*|sports?|chiro\w*|osteo\w*)\b",
    re.IGNORECASE,
)
#: The same in the other languages a clinic name is most often written in (Spanish, Portuguese,
#: French, Italian, German, Dutch); a name in a script this list cannot read is left out whole.
CLINICAL_WORDS_ELSEWHERE = re.compile(
    r"\b(dolor\w*|dor(es)?|dolore|douleurs?|schmerz\w*|pijn\w*|\w*r(ü|ue)cken\w*|rug|espalda|"
    r"costas|schiena|dos|lombai\w*|lumba\w*|cadera|quadril|anca|hanches?|h(ü|ue)ft\w*|heup\w*|"
    r"piernas?|pernas?|gambe?|jambes?|beine?|benen|\w*ischi\w*|ci(á|a)tic\w*|sciati\w*|"
    r"nervi\w*|nerf\w*|column\w*|coluna|colonne|wirbel\w*|rachi\w*|gl(ú|u)te\w*|fesses?|"
    r"ges(ä|ae)(ß|ss)|nalgas?|quiro\w*|ortop\w*|orthop\w*|les(ión|ao|ão|ione)\w*|blessure\w*|"
    r"verletz\w*|deporte?s?|desport\w*|sport\w*)\b",
    re.IGNORECASE,
)
ADDR_SPEC = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
NAMED = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<addr>[^<>]*)>$")


# --- settings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float | None = None  # None: TIMEOUT_S

    @property
    def seconds(self) -> float:
        """How long one attempt may take in all."""
        return TIMEOUT_S if self.timeout is None else self.timeout

    @property
    def where(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 — judged from the text, never by a DNS look-up."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _pick(option, environ: Mapping[str, str], name: str, from_file, clinic_label: str):
    """The first of option, environment variable and clinic file that is set, with its source."""
    if option is not None:
        return option, f"--{name.replace('_', '-')}"
    env_key = ENV + name.upper()
    if environ.get(env_key, "").strip():
        return environ[env_key].strip(), env_key
    if from_file is not None:
        return from_file, f"{clinic_label}: smtp.{name}"
    return None, None


def resolve_sender(
    option: str | None, environ: Mapping[str, str], clinic: Clinic, clinic_label: str
) -> Address:
    """The From address: --from, HEPPLAN_SMTP_FROM, smtp.from, then the clinic's e-mail."""
    value, source = _pick(option, environ, "from", clinic.smtp.sender, clinic_label)
    if value is None and clinic.email:
        value, source = clinic.email, f"{clinic_label}: email"
    if value is None:
        raise InputError(
            "no sender address: give --from, set HEPPLAN_SMTP_FROM, or add smtp.from "
            "(or email) to the clinic file"
        )
    return parse_address(value, source, display_name=clinic.name)


def resolve_settings(
    options: Mapping[str, object], environ: Mapping[str, str], clinic: Clinic, clinic_label: str
) -> SmtpSettings:
    """Where and how to connect: options win over HEPPLAN_SMTP_* variables, and those over the
    clinic file's ``smtp:`` section. Every check happens here, before any connection."""
    smtp = clinic.smtp
    problems: list[str] = []

    def pick(option: str, name: str, from_file):
        return _pick(options.get(option), environ, name, from_file, clinic_label)

    security = _security(pick("security", "security", smtp.security), problems)
    host = _host(pick("smtp_host", "host", smtp.host), problems)
    port = _port(pick("smtp_port", "port", smtp.port), security, problems)
    user, password = _login(pick("user", "user", smtp.user), environ, problems)
    timeout = _timeout(environ, problems)
    if security == "none" and host is not None and not is_loopback(host):
        problems.append(
            f"--security none would send the patient's program unencrypted to {host}; it is "
            "allowed only for a mail server on this machine (localhost, 127.0.0.0/8 or ::1). "
            "Use starttls or ssl"
        )
    if problems:
        raise InputError(problems)
    return SmtpSettings(
        host=host, port=port, security=security, user=user, password=password, timeout=timeout
    )


def _security(picked, problems: list[str]) -> str:
    security, source = picked
    security = (security or "starttls").strip().lower()
    if security not in SECURITY:
        problems.append(f"{source}: {security!r} is not allowed; use starttls, ssl or none")
        return "starttls"
    return security


def _host(picked, problems: list[str]) -> str | None:
    host, source = picked
    if host is None:
        problems.append(
            "no mail server: give --smtp-host, set HEPPLAN_SMTP_HOST, or add "
            "smtp.host to the clinic file"
        )
    elif not host or any(ch.isspace() or ord(ch) < 32 for ch in host):
        problems.append(f"{source}: {host!r} is not a host name")
        return None
    return host


def _port(picked, security: str, problems: list[str]) -> int:
    value, source = picked
    if value is None:
        return DEFAULT_PORT[security]
    try:
        port = int(value)
        if not 1 <= port <= 65535:
            raise ValueError
    except (TypeError, ValueError):
        problems.append(f"{source}: {value!r} is not a port number (1-65535)")
        return DEFAULT_PORT[security]
    return port


def _login(picked, environ: Mapping[str, str], problems: list[str]):
    user, source = picked
    password = environ.get(PASSWORD_ENV) or None
    if user is not None and not user.strip():
        problems.append(f"{source}: the user name is empty")
    elif user is not None and password is None:
        problems.append(f"{PASSWORD_ENV} is not set; it must hold the password for user {user}")
    elif user is None and password is not None:
        problems.append(
            f"{PASSWORD_ENV} is set but no user is given; give --user, set "
            "HEPPLAN_SMTP_USER, or add smtp.user to the clinic file"
        )
    return user, password


def _timeout(environ: Mapping[str, str], problems: list[str]) -> float | None:
    text = environ.get(ENV + "TIMEOUT", "").strip()
    if not text:
        return None
    try:
        timeout = float(text)
        if not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
            raise ValueError
    except ValueError:
        problems.append(
            f"{ENV}TIMEOUT: {text[:20]!r} is not a number of seconds from "
            f"{TIMEOUT_RANGE[0]:g} to {TIMEOUT_RANGE[1]:g}"
        )
        return None
    return timeout


def parse_address(value: str, source: str, *, display_name: str | None = None) -> Address:
    """``name@example.org`` or ``Name <name@example.org>``. No line breaks, ever."""
    if not isinstance(value, str):
        raise InputError(f"{source}: {value!r} is not an e-mail address")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(
            f"{source}: an e-mail address must not contain line breaks or control characters"
        )
    text = value.strip()
    named = NAMED.fullmatch(text)
    if named:
        display_name = named["name"].strip().strip('"').strip() or display_name
        text = named["addr"].strip()
    if (
        not ADDR_SPEC.fullmatch(text)
        or ".." in text
        or text.startswith(".")
        or (text.split("@")[0].endswith("."))
    ):
        shown = repr(value) if len(value) <= 80 else f"{value[:60]!r}… ({len(value):,} characters)"
        raise InputError(f"{source}: {shown} is not an e-mail address like name@example.org")
    if display_name is not None and any(
        ord(ch) < 32 or ch in "\x7f\x85\u2028\u2029" for ch in display_name
    ):
        raise InputError(f"{source}: a display name must not contain line breaks")
    local, domain = text.split("@")
    return Address(display_name=display_name or "", username=local, domain=domain)


# --- the message ----------------------------------------------------------------------------


def first_name(name: str) -> str:
    return name.split()[0] if name.split() else name


def subject(clinic: Clinic) -> str:
    """No diagnosis, body part or symptom: the subject is seen on lock screens and by others."""
    name = clinic.name
    if (
        name
        and not CLINICAL_WORDS.search(name)
        and not CLINICAL_WORDS_ELSEWHERE.search(name)
        and all(_latin(ch) for ch in name if ch.isalpha())
    ):
        return f"Your home exercise program from {name}"
    return "Your home exercise program"


def _latin(ch: str) -> bool:
    """A letter of the Latin script, whose clinical words the lists above can recognise."""
    import unicodedata

    return unicodedata.name(ch, "").startswith("LATIN")


def attachment_name(profile: Profile) -> str:
    return f"home-program-{profile.patient.id}.pdf"


def bodies(profile: Profile, decision: Decision, clinic: Clinic) -> tuple[str, str]:
    """The plain-text body and its HTML alternative, from the catalog's ``email.*.j2``."""
    from hepplan.words.catalog import words

    w = words(profile.patient.language)

    a = profile.assessment
    context = dict(
        first_name=first_name(profile.patient.name),
        clinician=a.clinician,
        visit=w.date(a.date, us=clinic.page_size == "letter"),
        clinic=clinic,
        attachment=attachment_name(profile),
        weeks=max(p.weeks[1] for p in decision.phases),
        amber_max=clinic.pain_bands.amber_max,
        emergency_number=clinic.emergency_number,
        safety_signs=w.lines("signs.emergency_signs"),
        see_doctor=bool(decision.see_doctor_about),
    )
    return w.page("email.txt.j2", **context), w.page("email.html.j2", **context)


def build_message(
    profile: Profile,
    decision: Decision,
    clinic: Clinic,
    pdf: bytes,
    *,
    sender: Address,
    recipient: Address,
    now: datetime | None = None,
) -> bytes:
    """The whole message as the bytes that go on the wire (CRLF line endings)."""
    if not decision.prescribed:
        raise ValueError("only a prescribed program is ever e-mailed")
    text, html = bodies(profile, decision, clinic)
    return compose(
        clinic,
        text,
        html,
        attachment_name(profile),
        pdf,
        sender=sender,
        recipient=recipient,
        now=now,
    )


def compose(
    clinic: Clinic,
    text: str,
    html: str,
    attachment: str,
    pdf: bytes,
    *,
    sender: Address,
    recipient: Address,
    now: datetime | None = None,
) -> bytes:
    """The message from bodies already made: ``batch`` makes them in a worker, from the same
    read of the profile as the document, and sends them from the coordinator."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = recipient
    if clinic.email and clinic.email.lower() != sender.addr_spec.lower():
        # An unusable clinic address is still shown in the body as written; replies go to From.
        with contextlib.suppress(InputError):
            message["Reply-To"] = parse_address(
                clinic.email, "clinic email", display_name=clinic.name
            )
    message["Date"] = format_datetime(now or datetime.now(UTC).astimezone())
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Subject"] = subject(clinic)
    message.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=attachment)
    # Boundaries from the content, not chance: the same program gives the same message body.
    seed = hashlib.sha256(pdf + text.encode() + html.encode()).hexdigest()
    message.set_boundary(f"hepplan-mixed-{seed[:32]}")
    message.get_payload(0).set_boundary(f"hepplan-alternative-{seed[32:]}")
    return message.as_bytes()


# --- senders --------------------------------------------------------------------------------


class _Transient(Exception):
    """Worth another try: refused or dropped connections, timeouts, 4xx replies."""


class _Permanent(Exception):
    """Trying again cannot help: 5xx replies, failed login, an untrusted certificate."""


class _Deadline:
    """The end of one attempt. A socket timeout bounds each read, so a server that trickles a
    byte at a time could hold a send for ever; when the time is up this cuts the connection
    (whatever socket the client has then, plain or TLS), and the attempt fails at once."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self.client: smtplib.SMTP | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smtp-deadline", daemon=True)
        self._thread.start()

    def watch(self, client: smtplib.SMTP) -> None:
        self.client = client

    def cancel(self) -> None:
        self._done.set()

    def _run(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired = True
        while not self._done.is_set():  # until the attempt gives up: a socket may come late
            sock = getattr(self.client, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    # the plain socket's shutdown, under TLS too: the TLS state stays intact,
                    # so nothing can ever be written unencrypted afterwards
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
            self._done.wait(0.05)


@dataclass
class EmlWriter:
    """The dry-run twin: writes the message that would be sent to a file, sends nothing."""

    path: Path

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        write_atomic(self.path, data)
        return f"wrote the message to {self.path}; nothing was sent"


@dataclass
class SmtpSender:
    """Delivers one message over SMTP, retrying transient failures with backoff."""

    settings: SmtpSettings
    on_retry: Callable[[str, float], None] = lambda reason, delay: None
    sleep: Callable[[float], None] = time.sleep
    attempts: int = field(default=0, init=False)

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        reason = ""
        for attempt, delay in enumerate((*RETRY_DELAYS, None)):
            self.attempts = attempt + 1
            try:
                return self._deliver(sender, recipient, data)
            except _Permanent as exc:
                raise DeliveryError(f"{exc}; the program was not sent") from None
            except _Transient as exc:
                reason = str(exc)
                if delay is None:
                    break
                self.on_retry(reason, delay)
                self.sleep(delay)
        raise DeliveryError(
            f"could not deliver to the mail server at {self.settings.where} after "
            f"{self.attempts} attempts ({reason}); the program was not sent"
        )

    def _deliver(self, sender: str, recipient: str, data: bytes) -> str:
        deadline = _Deadline(self.settings.seconds)
        try:
            return self._attempt(sender, recipient, data, deadline)
        except (_Transient, _Permanent):
            if deadline.expired:  # whatever broke, it broke because the time was up
                raise _Transient(f"no answer within {deadline.seconds:g} s") from None
            raise
        finally:
            deadline.cancel()

    def _attempt(self, sender: str, recipient: str, data: bytes, deadline: _Deadline) -> str:
        try:
            return self._connect_and_send(sender, recipient, data, deadline)
        except (_Transient, _Permanent):
            raise
        except OSError as exc:  # smtplib's, ssl's and socket's errors are all OSErrors
            raise self._failure(exc, recipient) from None

    def _connect_and_send(
        self, sender: str, recipient: str, data: bytes, deadline: _Deadline
    ) -> str:
        s = self.settings
        context = ssl.create_default_context()
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(timeout=s.seconds, context=context)
        else:
            client = smtplib.SMTP(timeout=s.seconds)
        # Made unconnected so that the deadline watches the greeting too; TLS checks the
        # certificate against _host, which only the constructor would otherwise set.
        client._host = s.host
        deadline.watch(client)
        client.connect(s.host, s.port)
        try:
            self._converse(client, context, sender, recipient, data)
            if deadline.expired:  # a reply cut short by the deadline is no reply
                raise TimeoutError
        except BaseException:
            client.close()
            raise
        try:  # delivered: a failed goodbye must not make us send it twice
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
        return f"the mail server at {s.where} accepted the message"

    def _converse(self, client, context, sender: str, recipient: str, data: bytes) -> None:
        s = self.settings
        client.ehlo()
        if s.security == "starttls":
            if not client.has_extn("starttls"):
                raise _Permanent(
                    f"the mail server at {s.where} does not offer STARTTLS, "
                    "so the program cannot be sent encrypted"
                )
            client.starttls(context=context)
            client.ehlo()
        if s.user:
            self._login(client)
        client.sendmail(sender, [recipient], data)

    def _failure(self, exc: OSError, recipient: str) -> Exception:
        """What a failed attempt means: worth trying again (_Transient) or not (_Permanent)."""
        s = self.settings
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return _Permanent(
                f"the mail server at {s.where} did not accept the login for user "
                f"{s.user}: {self._reply(exc.smtp_code, exc.smtp_error)}"
            )
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            code, reply = next(iter(exc.recipients.values()))
            return self._by_code(code, reply, f"refused the recipient {recipient}")
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._by_code(exc.smtp_code, exc.smtp_error, "refused the message")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return _Permanent(f"the mail server at {s.where} cannot do this: {exc}")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            if isinstance(exc.__context__, TimeoutError):
                return _Transient(f"no answer within {s.seconds:g} s")
            return _Transient(f"the server closed the connection: {exc or 'no reason given'}")
        if isinstance(exc, smtplib.SMTPException):
            return _Permanent(f"the mail server at {s.where} failed: {exc}")
        return self._network_failure(exc)

    def _network_failure(self, exc: OSError) -> Exception:
        s = self.settings
        if isinstance(exc, ssl.SSLCertVerificationError):
            return _Permanent(
                f"the certificate of the mail server at {s.where} could not be "
                f"verified ({exc.verify_message or exc.reason})"
            )
        if isinstance(exc, ssl.SSLError):
            return _Permanent(
                f"a secure connection to the mail server at {s.where} failed "
                f"({exc.reason or exc}); check --security and --smtp-port"
            )
        if isinstance(exc, socket.gaierror):
            if exc.errno == socket.EAI_AGAIN:
                return _Transient(f"looking up {s.host} failed for now ({exc.strerror})")
            return _Permanent(f"the mail server {s.host} was not found ({exc.strerror})")
        if isinstance(exc, TimeoutError):
            return _Transient(f"no answer within {s.seconds:g} s")
        if isinstance(exc, ConnectionRefusedError):
            return _Transient("the connection was refused")
        return _Transient(exc.strerror or str(exc))

    def _login(self, client: smtplib.SMTP) -> None:
        """One login with one method: trying every method in turn with a wrong password
        only brings a lock-out closer."""
        s = self.settings
        offered = client.esmtp_features.get("auth", "").upper().split()
        method = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
        if method is None:
            raise _Permanent(
                f"the mail server at {s.where} offers no login that hepplan can "
                "use (PLAIN or LOGIN); check --user and --security"
            )
        client.user, client.password = s.user, s.password or ""
        client.auth(method, getattr(client, f"auth_{method.lower()}"), initial_response_ok=True)

    def _by_code(self, code: int, reply: bytes | str, what: str) -> Exception:
        words = self._reply(code, reply)
        if 400 <= code < 500:
            return _Transient(f"the server said {words}")
        return _Permanent(f"the mail server at {self.settings.where} {what}: {words}")

    def _reply(self, code: int, reply: bytes | str) -> str:
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        words = " ".join(f"{code} {reply}".split())
        if self.settings.password:
            words = words.replace(self.settings.password, "********")
        return words

"""Mail of voicemails and inbound SMS to the user's client_mail (smtplib, settings from config).

Mail is queued in the store in the same transaction as the event it tells about, then
delivered after the webhook was answered. Mail that did not go out, for whatever reason,
stays queued with its error and is tried again, however often it failed: on the next
webhook, at start-up, every ``mail_retry_seconds`` while the service runs (:class:`MailRetry`),
or with ``deliver_pending``. Nothing is dropped.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from .settings import CallerRoute, SmtpSettings
from .store import Store

log = logging.getLogger(__name__)


class Mailer:
    """Sends plain-text mail through one SMTP server."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Mailer(host={self.settings.host!r}, port={self.settings.port})"

    def send(self, to_addr: str, subject: str, body: str) -> None:
        s = self.settings
        message = EmailMessage()
        message["From"] = s.sender
        message["To"] = to_addr
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain="twilio-widget")
        message.set_content(body)
        if s.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        with client:
            if s.starttls and not s.ssl:
                client.starttls(context=ssl.create_default_context())
            if s.username:
                client.login(s.username, s.password or "")
            client.send_message(message)


def deliver_pending(store: Store, mailer: Mailer | None, *, max_attempts: int | None = None) -> tuple[int, int]:
    """Try every queued mail once; returns (sent, failed). Errors are kept, never raised."""
    if mailer is None:
        return (0, 0)
    sent = failed = 0
    claim = mailer.settings.timeout * 2 + 60  # past it, a worker that died sending it lets go
    with mailer._lock:  # one delivery run at a time here, and a claim in the store against other workers
        for item in store.mail_pending(max_attempts=max_attempts):
            if not store.mail_claim(item["id"], claim):
                continue
            try:
                mailer.send(item["to_addr"], item["subject"], item["body"])
            except Exception as exc:  # any failure: this mail waits with its error, the rest still go out
                failed += 1
                error = f"{type(exc).__name__}: {exc}"
                expected = isinstance(exc, OSError | smtplib.SMTPException)  # else a bad mail or a bug: trace it
                log.warning("mail %s to %s not sent: %s", item["id"], item["to_addr"], error, exc_info=not expected)
                store.mail_mark(item["id"], error=error)
            else:
                sent += 1
                store.mail_mark(item["id"])
    return sent, failed


class MailRetry:
    """Delivers what waits in the store at start-up, then again every ``seconds`` while the
    service runs, so mail the SMTP server refused goes out once it is back, without a new
    webhook or a restart. After a run with failures the wait doubles (up to an hour): a
    server that stays down is not hammered."""

    MAX_SECONDS = 3600.0

    def __init__(self, store: Store, mailer: Mailer, seconds: float) -> None:
        self.store, self.mailer, self.seconds = store, mailer, seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="twilio-widget-mail")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop retrying; waits for a delivery under way (bounded by the SMTP timeout)."""
        self._stop.set()
        self._thread.join(self.mailer.settings.timeout + 5)

    def _run(self) -> None:
        wait = self.seconds
        while not self._stop.is_set():
            _, failed = deliver_pending(self.store, self.mailer)
            wait = min(wait * 2, self.MAX_SECONDS) if failed else self.seconds
            self._stop.wait(wait)


def voicemail_mail(
    caller: CallerRoute,
    *,
    from_: str | None,
    recording_url: str,
    duration: int | None,
    call_sid: str | None,
) -> tuple[str, str, str]:
    """(to, subject, body) telling ``caller`` about a new voicemail, with a link to the audio."""
    who = from_ or "an unknown caller"
    link = recording_url + ".mp3"
    seconds = f"{duration} s" if duration is not None else "unknown length"
    body = (
        f"New voicemail for {caller.caller_id} from {who} ({seconds}).\n\n"
        f"Listen: {link}\n\n"
        f"Call SID: {call_sid or '-'}\n"
        "(The recording is stored in your Twilio account; the link may ask you to log in.)\n"
    )
    return (caller.client_mail or "", f"Voicemail from {who}", body)


def sms_mail(
    caller: CallerRoute,
    *,
    from_: str,
    body: str,
    num_media: int = 0,
    media: list[str] | None = None,
) -> tuple[str, str, str]:
    """(to, subject, body) forwarding an inbound SMS to ``caller``."""
    lines = [f"New message to {caller.caller_id} from {from_}:", "", body, ""]
    if num_media:
        lines.append(f"{num_media} attachment(s):")
        lines.extend(media or [])
    return (caller.client_mail or "", f"SMS from {from_}", "\n".join(lines) + "\n")

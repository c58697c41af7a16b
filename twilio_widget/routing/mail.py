"""Mail of voicemails and inbound SMS to the user's client_mail (smtplib, settings from config).

Mail is queued in the store in the same transaction as the event it tells about, then
delivered after the webhook was answered; what the SMTP server refused stays queued with its
error and is tried again (on the next webhook, at start-up, or with ``deliver_pending``).
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


def deliver_pending(store: Store, mailer: Mailer | None, *, max_attempts: int = 10) -> tuple[int, int]:
    """Try every queued mail once; returns (sent, failed). Errors are kept, never raised."""
    if mailer is None:
        return (0, 0)
    sent = failed = 0
    with mailer._lock:  # one delivery run at a time: no mail goes out twice
        for item in store.mail_pending(max_attempts=max_attempts):
            try:
                mailer.send(item["to_addr"], item["subject"], item["body"])
            except (OSError, smtplib.SMTPException) as exc:
                failed += 1
                error = f"{type(exc).__name__}: {exc}"
                log.warning("mail %s to %s not sent: %s", item["id"], item["to_addr"], error)
                store.mail_mark(item["id"], error=error)
            else:
                sent += 1
                store.mail_mark(item["id"])
    return sent, failed


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

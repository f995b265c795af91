"""The outbox sender: `groupbill deliver` (and the scheduler after each engine tick).

One message at a time is *claimed* in a short transaction (PostgreSQL: `FOR UPDATE SKIP
LOCKED`; SQLite: the IMMEDIATE transaction serialises senders) that marks it `sending`, so
two senders never send the same message. The outcome is then recorded:

- accepted by the server → `sent`;
- a temporary failure (an SMTP 4xx reply, or any failure before the server accepted the
  DATA command, e.g. connection refused) → back to `pending` with `next_attempt_at` backed
  off from 1 minute, doubling, at most 1 hour; after 8 attempts → `failed`;
- a permanent refusal (5xx), a rendering error, no recipients → `failed`;
- the connection lost after the message data was sent → `unknown`: the server may have
  accepted it, so it is never resent automatically (staff may resend from the Outbox page);
- a claim older than 10 minutes (its sender died mid-send) → `unknown` too.

Claiming and backing off are notices.claims, shared with the webhook sender
(notices.webhook_sender), which `deliver` runs after the emails.
"""

import re
import smtplib
import ssl
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import make_msgid

from babel.core import Locale, UnknownLocaleError
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection

from groupbill.clients.models import Contact, ContactRole
from groupbill.notices import claims, rendering, webhook_sender
from groupbill.notices.models import MessageStatus, OutboxMessage
from groupbill.notices.pdf import invoice_pdf

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class TemporaryFailure(Exception):
    """Nothing was delivered; trying again later is safe."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx)."""


class OutcomeUnknown(Exception):
    """The message data left us but the server's verdict never came back."""


def _refusal(code: int, reply: bytes | str, step: str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    error = f"{step}: {code} {text}".strip()
    return TemporaryFailure(error) if 400 <= code < 500 else PermanentFailure(error)


def _smtp_data(message_bytes: bytes) -> bytes:
    """CRLF line ends, leading dots doubled, the terminating "." line (RFC 5321 4.5.2)."""
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", message_bytes)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpTransport:
    """smtplib with explicit steps, so that a failure before the server accepted DATA (safe to
    retry) is told apart from one after the message data was sent (outcome unknown)."""

    def __init__(self, host, port, user="", password="", starttls=False, timeout=30.0):
        self.host, self.port, self.user, self.password = host, int(port), user, password
        self.starttls, self.timeout = starttls, timeout
        self.conn: smtplib.SMTP | None = None

    @classmethod
    def from_settings(cls) -> "SmtpTransport":
        return cls(settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_HOST_USER,
                   settings.EMAIL_HOST_PASSWORD, settings.EMAIL_USE_TLS)  # fmt: skip

    def _connect(self) -> smtplib.SMTP:
        if self.conn is None:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            conn.ehlo()
            if self.starttls:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.user:
                conn.login(self.user, self.password)
            self.conn = conn
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def send(self, email: EmailMessage) -> None:
        data = _smtp_data(email.message().as_bytes(linesep="\r\n"))
        try:
            conn = self._connect()
            code, reply = conn.mail(email.from_email)
            if code != 250:
                raise _refusal(code, reply, "MAIL FROM")
            for address in email.recipients():
                code, reply = conn.rcpt(address)
                if code not in (250, 251):
                    raise _refusal(code, reply, f"RCPT TO <{address}>")
            code, reply = conn.docmd("DATA")
            if code != 354:
                raise _refusal(code, reply, "DATA")
        except (TemporaryFailure, PermanentFailure):
            self._reset()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"before the message data was sent: {exc!r}") from exc
        try:
            conn.send(data)
            code, reply = conn.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise OutcomeUnknown(
                f"connection lost after the message data was sent: {exc!r}"
            ) from exc
        if code != 250:
            self._reset()
            raise _refusal(code, reply, "end of data")

    def _reset(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class BackendTransport:
    """Any other Django email backend (console by default, locmem in tests)."""

    def __init__(self):
        self.backend = get_connection()

    def send(self, email: EmailMessage) -> None:
        email.connection = self.backend
        try:
            email.send()
        except Exception as exc:
            raise TemporaryFailure(repr(exc)) from exc

    def close(self) -> None:
        self.backend.close()


def transport_from_settings():
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return SmtpTransport.from_settings()
    return BackendTransport()


@dataclass
class Summary:
    counts: Counter
    webhooks: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        order = ["sent", "retry", "failed", "unknown", "expired"]
        text = ", ".join(f"{self.counts[k]} {k}" for k in order)
        if self.webhooks.total():
            text += "; webhooks: " + ", ".join(f"{self.webhooks[k]} {k}" for k in order)
        return text


def expire_stale_claims(now: datetime) -> int:
    """A message claimed more than 10 minutes ago whose sender never reported: `unknown`."""
    return claims.expire_stale_claims(
        OutboxMessage,
        now,
        "the sender stopped while sending (claim older than 10 minutes); "
        "the message may or may not have been delivered",
    )


def claim_next(now: datetime) -> OutboxMessage | None:
    """Mark the oldest due pending message `sending`, for this sender only."""
    pk = claims.claim_next(OutboxMessage, now)
    if pk is None:
        return None
    return OutboxMessage.objects.select_related("company", "client").get(pk=pk)


def _client_name_and_locale(message: OutboxMessage) -> tuple[str, str]:
    if message.client_id is None:
        return "", "en"
    contact = Contact.objects.filter(client_id=message.client_id, role=ContactRole.PRIMARY).first()
    name = contact.display_name if contact else f"Client #{message.client_id}"
    language = message.client.language or "en"
    try:
        Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        language = "en"
    return name, language.replace("-", "_")


INVOICE_TEMPLATES = ("invoice_unpaid", "invoice_paid")  # delivery emails carry the PDF


def build_email(message: OutboxMessage) -> EmailMessage:
    """Raises RenderError / PermanentFailure for a message that can never be sent."""
    addresses = [r["email"] for r in message.recipients or [] if r.get("email")]
    if not addresses:
        raise PermanentFailure(
            "no recipients: the client has no billing or primary contact with an email "
            "address (renewal_failed: the company has no notify_email)"
        )
    client_name, locale = _client_name_and_locale(message)
    context = dict(message.context or {})
    # A message to one contact (a password link) greets that contact, not the primary one.
    client_name = context.pop("client_name", None) or client_name
    rendered = rendering.render(message.template, context,
                                company_name=message.company.name, client_name=client_name,
                                locale=locale, company=message.company)  # fmt: skip
    from_email = settings.DEFAULT_FROM_EMAIL
    domain = from_email.rpartition("@")[2] or "localhost"
    to = [
        f"{r['name']} <{r['email']}>" if r.get("name") else r["email"]
        for r in message.recipients
        if r.get("email")
    ]
    # With an HTML part the message is multipart/alternative (text, then HTML).
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.body,
        from_email=from_email,
        to=to,
        # Stable across retries: a receiver that saw it once can tell a resend.
        headers={"Message-ID": make_msgid(f"outbox.{message.pk}", domain=domain)},
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    if message.template in INVOICE_TEMPLATES and message.invoice is not None:
        # Rendered when sent, so it shows the invoice as it is then (paid, say).
        invoice = message.invoice
        name = f"invoice-{invoice.number}.pdf" if invoice.number else f"draft-{invoice.pk}.pdf"
        email.attach(name, invoice_pdf(invoice), "application/pdf")
    return email


def _finish(message: OutboxMessage, now: datetime, outcome: str, error: str = "") -> str:
    fields = {"claimed_at": None, "last_error": error}
    if outcome == "sent":
        fields.update(status=MessageStatus.SENT, sent_at=now, next_attempt_at=None)
    elif outcome == "retry":
        fields.update(claims.retry_or_give_up(message.attempts, now, error))
        if fields["status"] == MessageStatus.FAILED:
            outcome = "failed"
    elif outcome == "failed":
        fields.update(status=MessageStatus.FAILED, next_attempt_at=None)
    else:
        fields.update(status=MessageStatus.UNKNOWN, next_attempt_at=None)
    OutboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts, **fields)
    return outcome


def send_one(message: OutboxMessage, transport, now: datetime) -> str:
    try:
        email = build_email(message)
    except (rendering.RenderError, PermanentFailure) as exc:
        return _finish(message, now, "failed", str(exc))
    message.attempts += 1
    try:
        transport.send(email)
    except TemporaryFailure as exc:
        return _finish(message, now, "retry", str(exc))
    except PermanentFailure as exc:
        return _finish(message, now, "failed", str(exc))
    except OutcomeUnknown as exc:
        return _finish(message, now, "unknown", str(exc))
    return _finish(message, now, "sent")


def deliver(now: datetime, transport=None, limit: int | None = None) -> Summary:
    """Send every due pending message once, then every due webhook delivery (at most
    `limit` messages; webhooks unlimited); returns how each ended."""
    counts: Counter = Counter()
    counts["expired"] = expire_stale_claims(now)
    transport = transport or transport_from_settings()
    try:
        while limit is None or counts.total() - counts["expired"] < limit:
            message = claim_next(now)
            if message is None:
                break
            counts[send_one(message, transport, now)] += 1
    finally:
        transport.close()
    return Summary(counts, webhook_sender.deliver(now))

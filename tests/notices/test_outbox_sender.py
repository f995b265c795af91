"""The outbox sender against a real SMTP server (aiosmtpd) on loopback."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections

from groupbill.audit.models import AuditEntry
from groupbill.notices import outbox, sender
from groupbill.notices.models import OutboxMessage
from groupbill.notices.rendering import DEFAULTS
from tests.processes import free_port

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INVOICE_CONTEXT = {
    "invoice_id": None,
    "number": "INV-0042",
    "currency": "EUR",
    "total": 11900,
    "balance_due": 11900,
    "issued_on": "2026-03-01",
    "due_on": "2026-03-15",
}
RENEWAL_CONTEXT = {"service_id": 7, "package": "VPS S", "attempts": 3,
                   "period_start": "2026-03-01"}  # fmt: skip


@pytest.fixture
def client_row(make_client):
    return make_client(first_name="Ada", last_name="Lovelace", email="ada@example.com")


def _queue(company, client, template="invoice_unpaid", key=None, recipients=None, context=None):
    if recipients is None:
        recipients = [{"name": "Ada Lovelace", "email": "ada@example.com"}]
    if context is None:
        context = RENEWAL_CONTEXT if template == "renewal_failed" else INVOICE_CONTEXT
    outbox.queue(key=key or f"test:{template}", company_id=company.pk, client_id=client.pk,
                 template=template, recipients=recipients, context=context)  # fmt: skip
    return OutboxMessage.objects.get(key=key or f"test:{template}")


def deliver(at: datetime) -> str:
    from io import StringIO

    out = StringIO()
    call_command("deliver", "--now", at.isoformat(), stdout=out)
    return out.getvalue()


EXPECTED = {
    "invoice_unpaid": ("Invoice INV-0042 from Acme Hosting", "Please pay €119.00 by Mar 15, 2026"),
    "invoice_paid": ("Invoice INV-0042 from Acme Hosting (paid)", "is paid. Thank you."),
    "notice_first": ("Payment reminder: invoice INV-0042", "friendly reminder"),
    "notice_second": ("Second payment reminder: invoice INV-0042", "still unpaid"),
    "notice_third": ("Final payment notice: invoice INV-0042", "final notice"),
    "autodebit_pending": ("Upcoming automatic payment: invoice INV-0042", "charge €119.00"),
    "renewal_failed": ("Renewal failed: service #7 (VPS S)", "failed after 3 attempt(s)"),
}


def test_every_template_key_has_an_expectation():
    # Every template the engine queues today; the other defaults (payment_received, ...) are
    # rendered in tests/notices/test_message_templates.py.
    assert set(EXPECTED) <= set(DEFAULTS)


def test_each_template_arrives_with_its_headers_and_text(company, client_row, smtp):
    server = smtp()
    for template in EXPECTED:
        _queue(company, client_row, template)
    assert "7 sent" in deliver(T0)
    assert len(server.received) == len(EXPECTED)
    by_subject = {msg["Subject"]: (rcpts, msg) for rcpts, msg in server.received}
    for template, (subject, text) in EXPECTED.items():
        rcpts, msg = by_subject[subject]
        assert rcpts == ["ada@example.com"]
        assert msg["To"] == "Ada Lovelace <ada@example.com>"
        assert msg["From"] == "billing@acme.test"
        message = OutboxMessage.objects.get(key=f"test:{template}")
        assert msg["Message-ID"].startswith("<") and f"outbox.{message.pk}" in msg["Message-ID"]
        body = msg.get_content()
        assert text in body, (template, body)
        if template != "renewal_failed":
            assert "Hello Ada Lovelace," in body and "Acme Hosting" in body
        assert message.status == "sent" and message.sent_at == T0 and message.attempts == 1


def test_money_and_dates_follow_the_clients_language(company, make_client, smtp):
    server = smtp()
    german = make_client(first_name="Grete", language="de", email="grete@example.com")
    _queue(company, german, "invoice_unpaid")
    deliver(T0)
    body = server.received[0][1].get_content()
    assert "119,00\xa0€" in body and "15.03.2026" in body


def test_451_then_recovery_each_message_arrives_once_with_backoff(company, client_row, smtp):
    # Each of the 2 messages is refused on each pass until 6 refusals are used up: 3 passes.
    server = smtp(refuse_first=6)
    first = _queue(company, client_row, "notice_first")
    second = _queue(company, client_row, "notice_second")
    moments = [T0]
    out = deliver(T0)
    assert "2 retry" in out
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == "pending" and message.attempts == 1
        assert message.next_attempt_at == T0 + timedelta(minutes=1)
        assert "451" in message.last_error
    # Not due yet: nothing is tried.
    assert "0 sent, 0 retry" in deliver(T0 + timedelta(seconds=59))
    assert server.refuse_left == 4
    moments.append(T0 + timedelta(minutes=1))
    deliver(moments[-1])
    first.refresh_from_db()
    assert first.attempts == 2 and first.next_attempt_at == moments[-1] + timedelta(minutes=2)
    moments.append(moments[-1] + timedelta(minutes=2))
    deliver(moments[-1])
    assert server.refuse_left == 0 and server.received == []
    moments.append(moments[-1] + timedelta(minutes=4))
    assert "2 sent" in deliver(moments[-1])
    deliver(moments[-1] + timedelta(hours=2))  # nothing left to send
    subjects = sorted(msg["Subject"] for _, msg in server.received)
    assert subjects == ["Payment reminder: invoice INV-0042",
                        "Second payment reminder: invoice INV-0042"]  # fmt: skip
    for message in (first, second):
        message.refresh_from_db()
        assert message.status == "sent" and message.attempts == 4 and message.last_error == ""
        assert message.sent_at == moments[-1]


def test_backoff_doubles_to_an_hour_then_fails_after_8_tries(company, client_row, smtp):
    smtp(refuse_first=100)
    message = _queue(company, client_row, "notice_first")
    at = T0
    waits = []
    for _ in range(8):
        deliver(at)
        message.refresh_from_db()
        if message.status != "pending":
            break
        waits.append(message.next_attempt_at - at)
        at = message.next_attempt_at
    assert [w / timedelta(minutes=1) for w in waits] == [1, 2, 4, 8, 16, 32, 60]
    assert message.status == "failed" and message.attempts == 8
    assert "gave up after 8 attempts" in message.last_error and "451" in message.last_error


def test_connection_refused_is_temporary(company, client_row, settings):
    settings.EMAIL_BACKEND = sender.SMTP_BACKEND
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    message = _queue(company, client_row, "notice_first")
    deliver(T0)
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 1
    assert "before the message data was sent" in message.last_error


def test_connection_dropped_after_data_is_unknown_and_not_resent(company, client_row, smtp):
    server = smtp(drop_after_data=True)
    message = _queue(company, client_row, "invoice_unpaid")
    assert "1 unknown" in deliver(T0)
    message.refresh_from_db()
    assert message.status == "unknown" and message.attempts == 1
    assert "after the message data was sent" in message.last_error
    deliver(T0 + timedelta(hours=3))
    assert len(server.received) == 1
    message.refresh_from_db()
    assert message.status == "unknown"


def test_a_claim_older_than_10_minutes_becomes_unknown(company, client_row, smtp):
    server = smtp()
    message = _queue(company, client_row, "invoice_unpaid")
    assert sender.claim_next(T0).pk == message.pk  # ...and the sender dies here
    deliver(T0 + timedelta(minutes=9))
    message.refresh_from_db()
    assert message.status == "sending"
    assert "1 expired" in deliver(T0 + timedelta(minutes=11))
    message.refresh_from_db()
    assert message.status == "unknown" and "stopped while sending" in message.last_error
    assert server.received == []


def test_no_recipients_fails_with_a_clear_error(company, client_row, smtp):
    server = smtp()
    message = _queue(company, client_row, "renewal_failed", recipients=[])
    assert "1 failed" in deliver(T0)
    message.refresh_from_db()
    assert message.status == "failed" and "no recipients" in message.last_error
    assert server.received == []


def test_an_unknown_template_is_recorded_not_a_crash(company, client_row, smtp):
    server = smtp()
    bad = _queue(company, client_row, "no_such_template")
    good = _queue(company, client_row, "notice_first")
    deliver(T0)
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == "failed" and "no message template named" in bad.last_error
    assert good.status == "sent" and len(server.received) == 1


def test_a_malicious_context_value_is_inert(company, client_row, smtp):
    server = smtp()
    context = {**INVOICE_CONTEXT, "number": "{{ ''.__class__.__mro__ }}"}
    _queue(company, client_row, "notice_first", context=context)
    deliver(T0)
    assert "{{ ''.__class__.__mro__ }}" in server.received[0][1]["Subject"]


def test_the_console_backend_is_the_local_default(company, client_row, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    _queue(company, client_row, "notice_first")
    assert "1 sent" in deliver(T0)
    assert "Payment reminder: invoice INV-0042" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_senders_never_send_a_message_twice(company, client_row, smtp):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claiming (FOR UPDATE SKIP LOCKED) is checked on PostgreSQL; "
                    "SQLite serialises writers, CI runs this with DATABASE_URL")  # fmt: skip
    server = smtp(delay=0.01)  # slow enough that both senders get work
    count = 40
    for i in range(count):
        _queue(company, client_row, "notice_first", key=f"race:{i}")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(sender.deliver(T0).counts["sent"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(results) == count and min(results) > 0, results
    ids = [msg["Message-ID"] for _, msg in server.received]
    assert len(ids) == count and len(set(ids)) == count
    assert OutboxMessage.objects.filter(status="sent").count() == count


def test_the_outbox_page_filters_and_resends(company, client_row, staff, smtp):
    server = smtp(drop_after_data=True)
    message = _queue(company, client_row, "invoice_unpaid")
    sent = _queue(company, client_row, "notice_first", key="other")
    OutboxMessage.objects.filter(pk=sent.pk).update(status="sent", sent_at=T0)
    deliver(T0)
    page = staff.get("/outbox/?status=unknown")
    html = page.content.decode()
    assert page.status_code == 200 and "invoice_unpaid" in html and "notice_first" not in html
    assert "ada@example.com" in html and "after the message data was sent" in html
    assert '<a href="/outbox/">Outbox</a>' in html  # the nav link
    page = staff.post(f"/outbox/{message.pk}/resend/", {"status": "unknown"})
    assert page.status_code == 302
    message.refresh_from_db()
    assert message.status == "pending" and message.attempts == 0
    entry = AuditEntry.objects.get(action="outbox.resend")
    assert entry.object_id == message.pk and entry.actor == "staff:staff"
    # A sent message cannot be resent.
    page = staff.post(f"/outbox/{sent.pk}/resend/", follow=True)
    assert "only failed or unknown" in page.content.decode()
    server.drop_after_data = False
    deliver(T0 + timedelta(minutes=1))
    message.refresh_from_db()
    assert message.status == "sent" and len(server.received) == 2


def test_an_invoice_email_carries_the_invoice_as_a_pdf(company, client_row, smtp):
    """The engine delivers an invoice by email; the sender attaches the PDF as it is when
    sent: a valid PDF whose text names the invoice, its line and its total."""
    from io import BytesIO

    from pypdf import PdfReader

    from groupbill.automation.engine import AsOf, execute
    from groupbill.automation.tasks import TASKS
    from groupbill.billing.invoices import NewLine, create_invoice, issue_invoice

    server = smtp()
    invoice = create_invoice(client_row, [NewLine("Managed WordPress", 4900)], actor="test")
    issue_invoice(invoice, issued_on=datetime(2026, 3, 1).date(), actor="test")
    execute(AsOf.parse("2026-03-01"), companies=[company], tasks=TASKS)
    deliver(datetime(2026, 3, 1, 12, tzinfo=UTC))
    (_, received), *_ = server.received
    attachments = [part for part in received.iter_attachments()]
    assert [a.get_filename() for a in attachments] == ["invoice-1.pdf"]
    pdf = attachments[0].get_content()
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Invoice 1" in text and "Managed WordPress" in text and "49.00" in text

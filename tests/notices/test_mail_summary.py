"""Local email (`make run`, no SMTP configured): one line per message, naming recipient,
subject and attachments, never the message itself."""

from groupbill.notices import sender
from tests.notices.test_outbox_sender import T0, _queue, client_row  # noqa: F401 (fixture)

SUMMARY = "groupbill.notices.mail_backends.SummaryEmailBackend"


def test_each_message_is_one_line(company, client_row, settings, capsys):  # noqa: F811
    settings.EMAIL_BACKEND = SUMMARY
    _queue(company, client_row, "notice_first", key="a")
    _queue(company, client_row, "invoice_unpaid", key="b",
           recipients=[{"name": "AP", "email": "ap@example.com"},
                       {"name": "Ada", "email": "ada@example.com"}])  # fmt: skip
    assert "2 sent" in str(sender.deliver(T0))
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "mail to Ada Lovelace <ada@example.com>: Payment reminder: invoice INV-0042",
        "mail to AP <ap@example.com>, Ada <ada@example.com>: Invoice INV-0042 from Acme Hosting",
    ]


def test_without_smtp_settings_local_mail_is_summarised(monkeypatch):
    import importlib

    import groupbill.settings as project_settings

    monkeypatch.delenv("GROUPBILL_EMAIL_BACKEND", raising=False)
    monkeypatch.delenv("GROUPBILL_SMTP_HOST", raising=False)
    assert importlib.reload(project_settings).EMAIL_BACKEND == SUMMARY
    monkeypatch.setenv("GROUPBILL_SMTP_HOST", "mail.example.com")
    assert importlib.reload(project_settings).EMAIL_BACKEND == sender.SMTP_BACKEND
    monkeypatch.delenv("GROUPBILL_SMTP_HOST")
    importlib.reload(project_settings)

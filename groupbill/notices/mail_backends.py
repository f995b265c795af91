"""Email for local use: one line per message instead of the console backend's whole
message (headers, text, HTML and base64 PDFs: hundreds of lines per invoice), so that
`make run` keeps its sign-in banner readable. Selected when no SMTP is configured
(`GROUPBILL_EMAIL_BACKEND=summary`, the default without `GROUPBILL_SMTP_HOST`)."""

import sys
import threading

from django.core.mail.backends.base import BaseEmailBackend


def summary_line(message) -> str:
    """`mail to ada@example.com: Invoice INV-0042 from Acme Hosting (1 attachment)`."""
    to = ", ".join(message.to) or "(no recipient)"
    count = len(message.attachments)
    attached = f" ({count} attachment{'s' if count != 1 else ''})" if count else ""
    return f"mail to {to}: {message.subject}{attached}"


class SummaryEmailBackend(BaseEmailBackend):
    """Writes `summary_line` for each message to stdout (or `stream`); sends nothing."""

    def __init__(self, *args, stream=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        self._lock = threading.RLock()

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        with self._lock:
            for message in email_messages:
                self.stream.write(summary_line(message) + "\n")
            self.stream.flush()
        return len(email_messages)

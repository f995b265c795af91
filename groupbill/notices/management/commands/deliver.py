from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from groupbill.notices import sender


def parse_now(text: str | None) -> datetime:
    if not text:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--now: {text!r} is not an ISO 8601 date and time") from None
    if timezone.is_naive(moment):
        raise CommandError("--now needs a UTC offset, e.g. 2026-01-31T12:00:00+00:00")
    return moment


class Command(BaseCommand):
    help = (
        "Send the outbox's due messages over email, once each, then POST the due webhook "
        "deliveries (retried with backoff until a 2xx answer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="The moment to act at (ISO 8601 with an offset).")
        parser.add_argument("--limit", type=int, help="Send at most N messages.")

    def handle(self, *args, now: str | None, limit: int | None, **options):
        summary = sender.deliver(parse_now(now), limit=limit)
        self.stdout.write(f"Outbox: {summary}")

import json
import sys
from datetime import date, timedelta

from django.core.management.base import BaseCommand

from groupbill.automation import cli
from groupbill.automation.engine import AsOf


class Command(BaseCommand):
    help = "Run the engine once per day from --from to --to (both included), at 12:00 local."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD")
        parser.add_argument("--company", type=int)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--json", action="store_true", help="One JSON document per day.")

    def handle(self, *args, **options):
        try:
            start, end = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
        except ValueError:
            raise cli.bad_args("--from and --to are dates: YYYY-MM-DD") from None
        if end < start:
            raise cli.bad_args("--to is before --from")
        days = (end - start).days + 1
        tty = sys.stderr.isatty()
        worst = cli.EXIT_OK
        for i in range(days):
            day = start + timedelta(days=i)
            doc, code = cli.run_once(
                AsOf(day=day),
                actor="cli:simulate",
                company=options["company"],
                dry_run=options["dry_run"],
                progress=False,
            )
            worst = max(worst, code)
            if options["json"]:
                self.stdout.write(json.dumps(doc, default=str))
            else:
                self.stdout.write(f"{day}  {cli.summary_line(doc)}")
            if tty:
                done = int(30 * (i + 1) / days)
                sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] {i + 1}/{days} days")
                sys.stderr.flush()
        if tty:
            sys.stderr.write("\n")
        raise cli.Exit(worst)

import json
import sys
from datetime import date, timedelta

from django.core.management.base import BaseCommand

from groupbill import bounds
from groupbill.automation import cli, engine
from groupbill.automation.engine import AsOf
from groupbill.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Run the engine once per day from --from to --to (both included), at 12:00 local. "
        "A preview: everything is rolled back at the end (later days see earlier ones), "
        "unless --commit writes it to the book."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD")
        parser.add_argument("--company", type=int)
        parser.add_argument(
            "--commit",
            action="store_true",
            help="Write every day's run to the book for real (messages wait for their day).",
        )
        parser.add_argument("--dry-run", action="store_true", help="The default: a preview.")
        parser.add_argument("--json", action="store_true", help="One JSON document per day.")

    def handle(self, *args, **options):
        try:
            start, end = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
            bounds.check_date(start, "from")
            bounds.check_date(end, "to")
        except ValueError:
            raise cli.bad_args("--from and --to are dates: YYYY-MM-DD") from None
        except ValidationFailed as exc:
            raise cli.bad_args(f"--{exc.errors[0].field} {exc.errors[0].message}") from None
        if end < start:
            raise cli.bad_args("--to is before --from")
        days = [AsOf(day=start + timedelta(days=i)) for i in range((end - start).days + 1)]
        if options["commit"] and not options["dry_run"]:
            self.stderr.write(f"Writing {len(days)} days of runs to the book (--commit).")
            documents = self.commit(days, options)
        else:
            record = engine.preview(days, actor="cli:simulate", company_id=options["company"])
            documents = record.result["days"]
        worst = cli.EXIT_OK
        for doc in documents:
            worst = max(worst, cli.EXIT_FAILED if any(t["failed"] for t in doc["tasks"]) else 0)
            if options["json"]:
                self.stdout.write(json.dumps(doc, default=str))
            else:
                self.stdout.write(f"{doc['as_of']}  {cli.summary_line(doc)}")
        raise cli.Exit(worst)

    def commit(self, days: list[AsOf], options) -> list[dict]:
        tty = sys.stderr.isatty()
        documents = []
        for i, as_of in enumerate(days):
            doc, _ = cli.run_once(as_of, actor="cli:simulate", company=options["company"],
                                  progress=False)  # fmt: skip
            documents.append(doc)
            if tty:
                done = int(30 * (i + 1) / len(days))
                sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] {i + 1}/{len(days)} days")
                sys.stderr.flush()
        if tty:
            sys.stderr.write("\n")
        return documents

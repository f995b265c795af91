import json

from django.core.management.base import BaseCommand

from groupbill.automation import cli
from groupbill.automation.tasks import TASK_NAMES
from groupbill.clock import now


class Command(BaseCommand):
    help = "Run the automation engine once (every task, in order) for a moment in time."

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            help="RFC 3339 time with offset, or a date (then 12:00 "
            "in each company's time zone). Default: now.",
        )
        parser.add_argument("--company", type=int, help="Only this company id.")
        parser.add_argument("--task", choices=TASK_NAMES, help="Only this task.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Preview: run everything, then roll it all back."
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        as_of = cli.parse_as_of(options["as_of"] or now().isoformat())
        doc, code = cli.run_once(
            as_of,
            actor="cli",
            company=options["company"],
            task=options["task"],
            dry_run=options["dry_run"],
        )
        if options["json"]:
            self.stdout.write(json.dumps(doc, indent=2, default=str))
        else:
            label = "Dry run" if options["dry_run"] else "Run"
            self.stdout.write(f"{label} as of {doc['as_of']}")
            for task in doc["tasks"]:
                self.stdout.write(
                    f"  {task['name']:<24} planned {task['planned']:>6}  applied "
                    f"{task['applied']:>6}  skipped {task['skipped']:>6}  failed "
                    f"{task['failed']:>4}  {task['seconds']:.2f}s"
                )
                for action in task["actions"]:
                    if action["outcome"] == "failed":
                        self.stdout.write(f"    failed {action['key']}: {action['error']}")
        raise cli.Exit(code)

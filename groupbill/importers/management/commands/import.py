import json

from django.core.management.base import BaseCommand, CommandError

from groupbill import money
from groupbill.importers.blesta.importer import import_blesta
from groupbill.importers.frame import KINDS, Report
from groupbill.importers.reader import ReaderError
from groupbill.importers.whmcs.importer import import_whmcs

IMPORTERS = {"blesta": ("Blesta", import_blesta), "whmcs": ("WHMCS", import_whmcs)}

EXIT_REFUSED, EXIT_BAD_ARGS = 1, 2
OUTCOMES = ("created", "updated", "set", "unset", "unchanged")


def report_lines(report: Report) -> list[str]:
    """The report as a person reads it: per company, counts per kind, the settings keys
    taken and not, notes, and what stopped the import."""
    lines = []
    for part in report.companies:
        target = f" → company #{part.company_id}" if part.company_id else ""
        lines.append(f'{report.system} company {part.source_id} "{part.name}"{target}')
        for kind in KINDS:
            counts = part.counts.get(kind)
            if counts:
                shown = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts.get(o))
                lines.append(f"  {kind:<14} {shown}")
        if part.totals:
            shown = "; ".join(
                f"{money.format_plain(due, c)} {c} due, {money.format_plain(credit, c)} {c} credit"
                for c, (due, credit) in sorted(part.totals.items())
            )
            lines.append(f"  {'balances':<14} {shown}")
        if part.mapped_keys:
            lines.append(f"  settings keys imported: {', '.join(sorted(part.mapped_keys))}")
        if part.unmapped:
            lines.append("  settings keys not imported:")
            lines += [f"    {key}: {why}" for key, why in sorted(part.unmapped.items())]
        if part.notes:
            lines.append("  notes:")
            lines += [f"    {note}" for note in part.notes]
        if part.refused:
            lines.append(f"  REFUSED, nothing of this company was written: {part.refused}")
    return lines


class Command(BaseCommand):
    help = (
        "Import another billing system's book. `import blesta --dsn mysql://user@host:3306/db` "
        "reads a Blesta 5.x database: companies with their settings, client groups, clients "
        "with contacts and settings, packages and prices, services, invoices and "
        "transactions; `import whmcs --dsn ...` a WHMCS 8.x database (one company: its "
        "billing settings, client groups, clients and contacts, products and pricing, "
        "services, invoices and transactions). Prints what it would do (dry run); writes "
        "only with --commit, all or nothing per company. A second run updates what the first made."
    )

    def add_arguments(self, parser):
        parser.add_argument("system", choices=sorted(IMPORTERS), help="The source system.")
        parser.add_argument("--dsn", required=True, help="mysql://user:password@host:port/database")
        parser.add_argument("--commit", action="store_true", help="Write the import.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **options):
        label, importer = IMPORTERS[options["system"]]
        try:
            report = importer(options["dsn"], commit=options["commit"])
        except ReaderError as exc:
            raise CommandError(
                f"Cannot read the {label} database: {exc}.", returncode=EXIT_BAD_ARGS
            ) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        else:
            mode = "" if options["commit"] else " (dry run)"
            self.stdout.write(f"{label} import from {report.source}{mode}")
            for line in report_lines(report):
                self.stdout.write(line)
        refused = [c for c in report.companies if not c.ok]
        if refused:
            raise CommandError(
                f"{len(refused)} of {len(report.companies)} companies refused; "
                "nothing of them was written.",
                returncode=EXIT_REFUSED,
            )
        say = self.stderr.write if options["json"] else self.stdout.write
        if options["commit"]:
            say("Imported.")
        else:
            say("Dry run: nothing was written. Add --commit to write it.")


class _WithCsv(Command):
    """`import csv ...` is the CSV import (its own options: import_csv)."""

    def run_from_argv(self, argv):
        if argv[2:3] == ["csv"]:
            from groupbill.importers.management.commands.import_csv import Command as Csv

            return Csv().run_from_argv([argv[0], "import csv", *argv[3:]])
        return super().run_from_argv(argv)


Command = _WithCsv

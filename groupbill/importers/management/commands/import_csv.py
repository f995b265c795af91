"""`groupbill import csv --company N --kind clients FILE [--commit]` (also reachable as
`groupbill import_csv ...`): the CSV import's preview printed row by row; written only with
--commit, all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from groupbill.companies.queries import get_company
from groupbill.errors import NotFound
from groupbill.importers import csv_import

EXIT_REFUSED, EXIT_BAD_ARGS = 1, 2


def preview_lines(result: csv_import.Preview) -> list[str]:
    """Each row's outcome, what it changes or why it is refused, then the counts."""
    lines = []
    for row in result.rows:
        about = f"  {row.label}" if row.label else ""
        changed = f"  ({', '.join(row.changed)})" if row.changed and not row.messages else ""
        lines.append(f"  row {row.number:<5} {row.outcome:<10}{about}{changed}")
        lines += [f"      {message}" for message in row.messages]
    lines.append(result.summary())
    return lines


class Command(BaseCommand):
    help = (
        "Import a CSV file of clients (with their primary contact), contacts of existing "
        "clients, or services into a company. Prints what each row would do (dry run); "
        "writes only with --commit, and only when no row is refused. Rows with an "
        "external_id update what an earlier import made from them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8; the first row names the columns).")
        parser.add_argument("--company", type=int, required=True, help="The company's id.")
        parser.add_argument("--kind", required=True, choices=csv_import.KINDS)
        parser.add_argument("--commit", action="store_true", help="Write the import.")

    def handle(self, *args, **options):
        try:
            company = get_company(options["company"])
        except NotFound as exc:
            raise CommandError(exc.message, returncode=EXIT_BAD_ARGS) from None
        try:
            with open(options["file"], "rb") as f:
                content = f.read(csv_import.MAX_BYTES + 1)
        except OSError as exc:
            raise CommandError(
                f"Cannot read {options['file']}: {exc.strerror}.", returncode=EXIT_BAD_ARGS
            ) from None
        kind, commit = options["kind"], options["commit"]
        if commit:
            result = csv_import.apply(company, kind, content, actor="import:csv")
        else:
            result = csv_import.preview(company, kind, content)
        mode = "" if commit else " (dry run)"
        self.stdout.write(
            f'CSV import of {kind} into company #{company.pk} "{company.name}" '
            f"from {options['file']}{mode}"
        )
        for line in preview_lines(result):
            self.stdout.write(line)
        if not result.ok:
            refused = result.counts["refused"]
            why = f"{refused} of {len(result.rows)} rows refused" if refused else "file refused"
            raise CommandError(f"{why}; nothing was written.", returncode=EXIT_REFUSED)
        if commit:
            self.stdout.write("Imported.")
        else:
            self.stdout.write("Dry run: nothing was written. Add --commit to write it.")

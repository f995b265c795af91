import json

from django.core.management.base import BaseCommand, CommandError

from groupbill.companies.models import Company
from groupbill.settings_catalog import transfer


class Command(BaseCommand):
    help = (
        "Print a company's settings (its explicit values and each group's overrides) as a "
        "versioned JSON document that settings-import takes back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, required=True, help="The company's id.")
        parser.add_argument("-o", "--output", help="Write the document to this file.")

    def handle(self, *args, **options):
        company = Company.objects.filter(pk=options["company"]).first()
        if company is None:
            raise CommandError(f"Company {options['company']} does not exist.", returncode=2)
        text = json.dumps(transfer.export(company), indent=2, ensure_ascii=False) + "\n"
        if options["output"]:
            try:
                with open(options["output"], "w", encoding="utf-8") as out:
                    out.write(text)
            except OSError as exc:
                raise CommandError(
                    f"Cannot write {options['output']}: {exc}", returncode=2
                ) from None
            self.stderr.write(
                f'Settings of company #{company.pk} "{company.name}" written to '
                f"{options['output']}."
            )
        else:
            self.stdout.write(text, ending="")

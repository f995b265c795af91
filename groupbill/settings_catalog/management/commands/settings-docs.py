from django.core.management.base import BaseCommand

from groupbill.settings_catalog.docs import settings_reference


class Command(BaseCommand):
    help = "Print the settings reference (Markdown) generated from the catalogue."

    def handle(self, *args, **options):
        self.stdout.write(settings_reference())

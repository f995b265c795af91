from django.core.management.base import BaseCommand, CommandError

from groupbill.api.actions import create_api_key, revoke_api_key
from groupbill.api.models import ApiKey
from groupbill.errors import DomainError


class Command(BaseCommand):
    help = "Manage API keys: create (prints the key once), list, revoke."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a key and print it once on stdout.")
        create.add_argument("--name", required=True, help="What the key is for.")
        create.add_argument(
            "--company", type=int, help="The id of the only company it works in (default: all)."
        )
        create.add_argument(
            "--read-only", action="store_true", help="It may read, never change (else 403)."
        )
        sub.add_parser("list", help="List keys (never the keys themselves).")
        revoke = sub.add_parser("revoke", help="Revoke a key by id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args, action: str, **options):
        try:
            if action == "create":
                key, raw = create_api_key(
                    options["name"],
                    actor="cli",
                    company_id=options["company"],
                    read_only=options["read_only"],
                )
                # Alone on stdout so `KEY=$(groupbill apikey create --name x)` works.
                self.stdout.write(raw)
                self.stderr.write(f"Created API key {key.pk} ({key.name}). It is shown only once.")
            elif action == "list":
                for key in ApiKey.objects.all():
                    state = "revoked" if key.revoked_at else "active"
                    used = key.last_used_at.isoformat() if key.last_used_at else "never used"
                    scope = "read-only" if key.read_only else "read-write"
                    where = f"company {key.company_id}" if key.company_id else "all companies"
                    self.stdout.write(
                        f"{key.pk}\t{key.prefix}…\t{state}\t{used}\t{scope}\t{where}\t{key.name}"
                    )
            elif action == "revoke":
                key = revoke_api_key(options["id"], actor="cli")
                self.stdout.write(f"Revoked API key {key.pk} ({key.name}).")
        except DomainError as exc:
            raise CommandError(exc.message) from None

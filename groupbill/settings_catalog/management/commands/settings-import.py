import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from groupbill.companies.models import Company
from groupbill.errors import DomainError
from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.catalog import CATALOG

EXIT_REFUSED, EXIT_BAD_ARGS = 1, 2


def _shown(key: str, value: Any) -> str:
    setting = CATALOG.get(key)
    return setting.type.display(value) if setting is not None else json.dumps(value)


def _raw(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def plan_lines(plan: transfer.ImportPlan, *, verbose: bool) -> list[str]:
    """The plan as a person reads it: per level, each key's change."""
    lines = []
    width = max((len(c.key) for lv in plan.levels for c in lv.changes), default=0)
    for level in plan.levels:
        unchanged = [c for c in level.changes if c.action == "unchanged"]
        head = level.label + (" (new: created by the import)" if level.creates_group else "")
        lines.append(head)
        for change in level.changes:
            if change.action == "unchanged" and not verbose:
                continue
            if change.current == change.new:
                what = _shown(change.key, change.new)
            else:
                what = f"{_shown(change.key, change.current)} → {_shown(change.key, change.new)}"
            note = f"  ({change.note})" if change.note else ""
            lines.append(f"  {change.action:<9}  {change.key:<{width}}  {what}{note}")
        if unchanged and not verbose:
            lines.append(f"  {_plural(len(unchanged), 'key')} unchanged (-v 2 lists them)")
        if not level.changes:
            lines.append("  no settings: inherits everything")
    if plan.untouched_groups:
        names = ", ".join(f'"{n}"' for n in plan.untouched_groups)
        lines.append(f"Groups the document does not name (left as they are): {names}")
    for title, problems, with_value in (
        ("Unknown keys (ignored)", plan.unknown, True),
        ("Notes", plan.notes, False),  # the value as read is in the change above
        ("Refused (nothing is written)", plan.refused, True),
    ):
        if problems:
            lines.append(f"{title}:")
            lines += [
                # a cross-key rule's refusal names no place in the document, nor one value
                f"  {p.field}{f' = {_raw(p.value)}' if with_value and p.field != p.key else ''}"
                f": {p.message}"
                for p in problems
            ]
    s = plan.summary()
    lines.append(
        f"{s['set']} to set, {s['unset']} to unset, {s['unchanged']} unchanged, "
        f"{_plural(s['groups_created'], 'group')} to create; "
        f"{_plural(s['unknown'], 'unknown key')} ignored, {s['refused']} refused."
    )
    return lines


class Command(BaseCommand):
    help = (
        "Import a settings document into a company: prints the plan per level and key; "
        "writes it only with --commit (all or nothing)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--company", type=int, required=True, help="The company's id.")
        parser.add_argument("file", help="The JSON document ('-': standard input).")
        parser.add_argument(
            "--dialect",
            choices=transfer.DIALECTS,
            default="groupbill",
            help="groupbill (an export, the default) or blesta (Blesta's keys and values).",
        )
        parser.add_argument("--commit", action="store_true", help="Write the plan.")
        parser.add_argument("--json", action="store_true", help="Print the plan as JSON.")

    def _document(self, path: str) -> Any:
        try:
            if path == "-":
                return json.load(sys.stdin)
            with open(path, encoding="utf-8") as source:
                return json.load(source)
        except OSError as exc:
            raise CommandError(
                f"Cannot read {path}: {exc.strerror}.", returncode=EXIT_BAD_ARGS
            ) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not JSON: {exc}.", returncode=EXIT_BAD_ARGS) from None

    def handle(self, *args, **options):
        company = Company.objects.filter(pk=options["company"]).first()
        if company is None:
            raise CommandError(
                f"Company {options['company']} does not exist.", returncode=EXIT_BAD_ARGS
            )
        document = self._document(options["file"])
        try:
            plan = transfer.plan_import(company, document, dialect=options["dialect"])
        except DomainError as exc:
            raise CommandError(
                f"{options['file']} cannot be imported: {exc.message}", returncode=EXIT_BAD_ARGS
            ) from None
        commit = options["commit"] and plan.ok
        if commit:
            try:
                transfer.apply_import(company, plan, actor="cli")
            except DomainError as exc:
                raise CommandError(exc.message, returncode=EXIT_REFUSED) from None
        if options["json"]:
            doc = {**plan.as_dict(), "dry_run": not options["commit"], "applied": commit}
            self.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False))
        else:
            mode = "" if options["commit"] else ": dry run"
            self.stdout.write(
                f'Settings import into company #{company.pk} "{company.name}" '
                f"(dialect {plan.dialect}){mode}"
            )
            for line in plan_lines(plan, verbose=options["verbosity"] >= 2):
                self.stdout.write(line)
        if not plan.ok:
            raise CommandError(
                f"Nothing was written: {_plural(len(plan.refused), 'value')} refused.",
                returncode=EXIT_REFUSED,
            )
        # With --json, stdout holds the document alone.
        say = self.stderr.write if options["json"] else self.stdout.write
        if commit:
            say("Imported: written as planned above.")
        else:
            say("Dry run: nothing was written. Add --commit to write it.")

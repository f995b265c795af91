"""What every importer shares (Blesta's, WHMCS's): the error that stops a company's import
naming the source's table, row and field; the report; the source ids of what was made
(`ExternalId`), read once per run; the per-company helpers (money in minor units, whole
numbers, currencies, a domain action's refusal named by the source row); and the run of
one company in one transaction, rolled back on a dry run or a refusal."""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import transaction

from groupbill import money
from groupbill.billing import imports as billing_imports
from groupbill.billing.payments import balances
from groupbill.catalog import actions as catalog
from groupbill.clients.contact_fields import clean_contact_value
from groupbill.clients.models import Client, Contact
from groupbill.companies.models import Company
from groupbill.currencies import clean_currency
from groupbill.errors import DomainError, FieldError, ValidationFailed
from groupbill.importers.models import ExternalId
from groupbill.settings_catalog import actions as settings_actions
from groupbill.settings_catalog import transfer
from groupbill.settings_catalog.models import SettingValue

KINDS = (
    "companies",
    "settings",
    "client_groups",
    "clients",
    "contacts",
    "packages",
    "services",
    "invoices",
    "transactions",
    "applications",
)


class DryRun(Exception):
    """Ends a dry run so its transaction rolls back."""


def broken(table: str, row_id: Any, column: str, message: str) -> ValidationFailed:
    """The error that stops a company's import: which table, row and field, and why."""
    return ValidationFailed(
        [FieldError(f"{table}.{row_id}.{column}", message)],
        f"{table} id {row_id}, field {column}: {message}",
    )


@dataclass
class CompanyReport:
    source_id: int
    name: str
    company_id: int | None = None
    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    mapped_keys: set[str] = field(default_factory=set)  # source keys imported as settings
    unmapped: dict[str, str] = field(default_factory=dict)  # source key → why not imported
    notes: list[str] = field(default_factory=list)
    refused: str = ""  # the message that stopped this company's import
    # Per currency, what the imported clients owe on open invoices and hold as credit, to
    # hold against the source's own figures.
    totals: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused

    def count(self, kind: str, outcome: str) -> None:
        self.counts[kind][outcome] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "name": self.name,
            "company_id": self.company_id,
            "counts": {k: dict(self.counts[k]) for k in KINDS if k in self.counts},
            "mapped_keys": sorted(self.mapped_keys),
            "unmapped_keys": dict(sorted(self.unmapped.items())),
            "notes": self.notes,
            "totals": {c: {"due": d, "credit": k} for c, (d, k) in sorted(self.totals.items())},
            "refused": self.refused,
        }


@dataclass
class Report:
    source: str
    dry_run: bool
    companies: list[CompanyReport] = field(default_factory=list)
    system: str = "Blesta"  # the source system, as people name it

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.companies)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "companies": [c.as_dict() for c in self.companies],
        }


class Ids:
    """The ExternalId rows of one system, read once; `get` the object id of a source row,
    `remember` a new one."""

    def __init__(self, system: str) -> None:
        self.system = system
        self.rows = {(e.table, e.source_id): e for e in ExternalId.objects.filter(system=system)}

    def get(self, table: str, source_id: Any) -> int | None:
        row = self.rows.get((table, str(source_id)))
        return row.object_id if row else None

    def remember(self, table: str, source_id: Any, object_id: int) -> None:
        key = (table, str(source_id))
        row = self.rows.get(key)
        if row is None:
            self.rows[key] = ExternalId.objects.create(
                system=self.system, table=table, source_id=str(source_id), object_id=object_id
            )
        elif row.object_id != object_id:
            row.object_id = object_id
            row.save(update_fields=["object_id", "updated_at"])


def find(model, ids: Ids, table: str, source_id: Any, **filters):
    pk = ids.get(table, source_id)
    return model.objects.filter(pk=pk, **filters).first() if pk is not None else None


def changed_fields(obj: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    """The wanted values that differ from the object's."""
    return {k: v for k, v in wanted.items() if getattr(obj, k) != v}


def differing(contact: Contact, fields: dict[str, str]) -> dict[str, str]:
    """The source's contact fields that differ from the contact's, compared as the contact
    actions clean them (a value they refuse counts as different: they say why)."""
    out = {}
    for name, value in fields.items():
        try:
            same = clean_contact_value(name, value) == getattr(contact, name)
        except ValueError:
            same = False
        if not same:
            out[name] = value
    return out


class CompanyImport:
    """One source company's import: the helpers every importer's rows go through.
    `MADE`: source table → (model, the lookup to its company) of what a run made."""

    MADE: dict[str, tuple[Any, str]] = {}
    ACTOR = "import"  # who the domain actions record as acting

    def __init__(self, data: dict[str, list[dict]], ids: Ids, report: CompanyReport):
        self.data = data
        self.ids = ids
        self.report = report
        self.company: Company | None = None
        self.precision: dict[str, int] = {}
        self._made: dict[str, dict[str, Any]] = {}

    def made(self, table: str, source_id: Any, client=None):
        """The object an earlier run made from this row (of this client, when given), or
        None; each table's objects are read once, in one query."""
        if table not in self._made:
            model, owner = self.MADE[table]
            pks = {sid: e.object_id for (t, sid), e in self.ids.rows.items() if t == table}
            found = model.objects.filter(pk__in=pks.values(), **{owner: self.company}).in_bulk()
            self._made[table] = {sid: found[pk] for sid, pk in pks.items() if pk in found}
        obj = self._made[table].get(str(source_id))
        if obj is not None and client is not None and obj.client_id != client.pk:
            return None
        return obj

    def currency(self, table: str, row_id: Any, column: str, code: Any) -> str:
        try:
            return clean_currency(code)
        except ValueError as exc:
            raise broken(table, row_id, column, str(exc)) from None

    def minor(self, table: str, row_id: Any, column: str, value: Any, currency: str) -> int:
        """A DECIMAL amount in minor units: rounded to the source's precision for the
        currency, which must not be finer than the currency's own minor unit."""
        try:
            amount = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise broken(table, row_id, column, "must be a decimal amount") from None
        if not amount.is_finite():
            raise broken(table, row_id, column, "must be a decimal amount")
        precision = self.precision.get(currency, money.exponent(currency))
        rounded = amount.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)
        minor = rounded.scaleb(money.exponent(currency))
        if minor != minor.to_integral_value():
            raise broken(
                table, row_id, column, f"{value} {currency} has more decimals than {currency} has"
            )
        return int(minor)

    def whole(self, table: str, row_id: Any, column: str, value: Any) -> int:
        try:
            number = Decimal(value)
        except (InvalidOperation, TypeError, ValueError):
            raise broken(table, row_id, column, "must be a number") from None
        if not number.is_finite() or number != number.to_integral_value():
            raise broken(table, row_id, column, f"{value} is not a whole number")
        return int(number)

    def outcome(self, kind: str, created: bool, changed: bool) -> None:
        self.report.count(kind, "created" if created else "updated" if changed else "unchanged")

    def done(self, kind: str, table: str, source_id: Any, obj: Any, created: bool, changed: bool):
        """Count a row's outcome and remember the object it became."""
        self.outcome(kind, created, changed)
        self.ids.remember(table, source_id, obj.pk)

    def upsert(
        self,
        table: str,
        row_id: Any,
        obj: Any,
        *,
        create: Callable[..., Any],
        update: Callable[..., Any],
        wanted: dict[str, Any] | None = None,
        changes: Callable[[Any], dict[str, Any]] | None = None,
        rows=None,
    ) -> tuple[Any, bool, bool]:
        """A source row's object: made by `create()` (the domain's create action with its
        arguments bound) when no earlier run made it (`obj` None); else given through
        `update(obj, changes)` only the `wanted` values that differ (or `changes(obj)`),
        when any. Returns (object, created, changed)."""
        if obj is None:
            return self.calling(table, row_id, create, actor=self.ACTOR, rows=rows), True, True
        found = changes(obj) if changes else changed_fields(obj, wanted or {})
        if found:
            self.calling(table, row_id, update, obj, found, actor=self.ACTOR, rows=rows)
        return obj, False, bool(found)

    def upsert_package(
        self, table: str, row_id: Any, package: Any, wanted: dict[str, Any], prices: list[dict]
    ) -> tuple[Any, bool, bool]:
        """A package with its prices (each a dict of unit, count, currency, price and
        setup_fee, in that order): created, or its differing fields and prices set."""
        package, created, changed = self.upsert(
            table,
            row_id,
            package,
            create=partial(catalog.create_package, self.company, {**wanted, "prices": prices}),
            update=catalog.update_package,
            wanted=wanted,
        )
        if not created:
            have = sorted(
                (p.unit, p.count, p.currency, p.price, p.setup_fee) for p in package.prices.all()
            )
            want = sorted(tuple(p.values()) for p in prices)
            if have != want:
                self.calling(
                    table, row_id, catalog.set_package_prices, package, prices, actor=self.ACTOR
                )
            changed = changed or have != want
        return package, created, changed

    def import_row(
        self, kind: str, table: str, row_id: Any, fn, client: Client, data: Any, rows=None
    ) -> tuple[Any, bool]:
        """A row through a domain import function (`fn(client, data, existing=…)` gives the
        object and whether it changed), counted and remembered. Returns (object, created)."""
        existing = self.made(table, row_id, client)
        obj, changed = self.calling(
            table, row_id, fn, client, data, actor=self.ACTOR, existing=existing, rows=rows
        )
        self.done(kind, table, row_id, obj, existing is None, changed)
        return obj, existing is None

    def apply_amounts(
        self, table: str, row_id: Any, txn: Any, amounts: dict[int, int], created: bool
    ) -> None:
        """What a transaction pays of which invoice (invoice pk → amount), counted."""
        changed = self.calling(table, row_id, billing_imports.set_applications, txn, amounts)
        for _ in amounts:
            self.outcome("applications", created, changed)

    def explicit_settings(self) -> dict[int, dict[str, Any]]:
        """The company's clients' own setting values: client pk → key → value."""
        explicit: dict[int, dict[str, Any]] = defaultdict(dict)
        for cid, key, value in SettingValue.objects.filter(
            company=self.company, client__isnull=False
        ).values_list("client_id", "key", "value"):
            explicit[cid][key] = value
        return explicit

    def write_client_settings(
        self, table: str, row_id: Any, client: Client, settings: dict[str, Any], now: dict
    ) -> bool:
        """The client's own settings as the source has them (`now`: what it holds), the
        rest inherits again; True when any was written."""
        writes = {k: val for k, val in settings.items() if now.get(k, object()) != val}
        writes |= {k: settings_actions.UNSET for k in now if k not in settings}
        if writes:
            self.calling(
                table, row_id, settings_actions.set_client_settings, client, writes,
                actor=self.ACTOR,
            )  # fmt: skip
        return bool(writes)

    def take_settings(self, plan, locate: Callable[[Any], tuple[str, Any, str]]) -> None:
        """A settings import's plan applied: its first refusal stops the import, named by
        the source row `locate(problem)` gives (table, id, column); its unknown keys and
        notes are reported and its counts kept."""
        if plan.refused:
            problem = plan.refused[0]
            raise broken(*locate(problem), problem.message)
        for problem in plan.unknown:
            self.report.unmapped.setdefault(problem.key, problem.message)
        for problem in plan.notes:
            self.report.notes.append(f"{problem.field}: {problem.message}")
        for action in ("set", "unset", "unchanged"):
            if plan.count(action):
                self.report.counts["settings"][action] = plan.count(action)
        if plan.count("set") + plan.count("unset"):
            transfer.apply_import(self.company, plan, actor=self.ACTOR)

    def settle(self, invoices: dict[Any, Any], table: str, column: str) -> dict[int, Any]:
        """The imported invoices' statuses held against the money applied to them; the
        first that is wrong stops the import at its row's `column`. Returns pk → source id."""
        by_pk = {invoice.pk: source_id for source_id, invoice in invoices.items()}
        wrong = billing_imports.settle_imported(list(by_pk))
        if wrong:
            invoice, why = wrong[0]
            raise broken(table, by_pk[invoice.pk], column, why)
        return by_pk

    def count_totals(self, clients: Iterable[Client]) -> None:
        """What the imported clients owe and hold as credit, per currency, in the report."""
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for rows in balances([c.pk for c in clients]).values():
            for balance in rows:
                totals[balance.currency][0] += balance.due
                totals[balance.currency][1] += balance.credit
        self.report.totals = {c: (due, credit) for c, (due, credit) in totals.items()}

    def calling(self, table: str, row_id: Any, fn, *args, rows=None, **kwargs):
        """A domain action on behalf of a source row: its refusal names the row. `rows`:
        field → (table, id, column) for fields that come from another row (a client's primary
        contact's fields are given with the client)."""
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            first = exc.errors[0] if exc.errors else FieldError("", exc.message)
            table, row_id, column = (rows or {}).get(first.field, (table, row_id, first.field))
            raise broken(table, row_id, column or "-", first.message) from None


def run_company(
    system: str, part: CompanyReport, body: Callable[[], None], *, commit: bool
) -> None:
    """`body` (one company's import) in one transaction, rolled back on a dry run or when
    a row is refused (the refusal is the report's `refused`)."""
    try:
        with transaction.atomic():
            body()
            if not commit:
                raise DryRun
    except DryRun:
        pass
    except ValidationFailed as exc:
        part.refused = exc.message
    if not commit or not part.ok:
        made = ExternalId.objects.filter(
            system=system, table="companies", source_id=str(part.source_id)
        ).exists()
        part.company_id = part.company_id if made else None

"""CSV import of a company's clients (with their primary contact), contacts of existing
clients, and services as another system has them.

`preview` reads the file (tablib) and does every row's work through the domain actions in
one transaction it then rolls back, so each row's outcome (create, update, unchanged,
refused with messages naming row and column) is exactly what `apply` would do. `apply` does
the same and commits, all or nothing: a single refused row refuses the whole file.

Columns come from the domain's own declarations: the contact fields from
`clients.contact_fields`, the client attributes from `clients.actions.CLIENT_ATTRIBUTES`.
An empty cell means "not given": a new object takes the default, an existing one keeps its
value. Row numbers are the file's lines as a spreadsheet shows them (the header is row 1).

A row with an `external_id` is remembered in `ExternalId` (system "csv", per company and
kind): importing the file again updates what the first import made instead of duplicating
it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from hashlib import sha256
from typing import Any

import tablib
from django.db import transaction

from groupbill import clock
from groupbill import validation as v
from groupbill.catalog.models import Package, PricingUnit
from groupbill.catalog.queries import price_for
from groupbill.clients import actions as clients
from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES
from groupbill.clients.models import Client, ClientGroup, Contact, ContactRole
from groupbill.companies.models import Company
from groupbill.currencies import clean_currency
from groupbill.errors import DomainError, FieldError, NotFound
from groupbill.importers.frame import differing
from groupbill.importers.models import CsvUpload, ExternalId
from groupbill.periods import Term, TermUnit, local_date, period_index, period_start
from groupbill.services import actions as service_actions
from groupbill.services.models import Service, ServiceStatus

SYSTEM = "csv"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

CLIENT_COLUMNS = ("external_id", "client_id", "group", *clients.CLIENT_ATTRIBUTES)
CONTACT_COLUMNS = ("external_id", "client_id", "client_external_id", "role")
SERVICE_COLUMNS = (
    "external_id",
    "client_id",
    "client_external_id",
    "package",
    "term",
    "currency",
    "quantity",
    "start_date",
    "renew_date",
    "status",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    "clients": (*CLIENT_COLUMNS, *CONTACT_FIELD_NAMES),
    "contacts": (*CONTACT_COLUMNS, *CONTACT_FIELD_NAMES),
    "services": SERVICE_COLUMNS,
}
KINDS = tuple(COLUMNS)
OUTCOMES = ("create", "update", "unchanged", "refused")
# What a CSV may say for a service status → the status it becomes.
SERVICE_STATUSES = {
    "active": ServiceStatus.ACTIVE,
    "suspended": ServiceStatus.SUSPENDED,
    "cancelled": ServiceStatus.CANCELED,
    "canceled": ServiceStatus.CANCELED,
}
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def template(kind: str) -> str:
    """The header of a CSV of this kind, as a file."""
    return tablib.Dataset(headers=list(COLUMNS[kind])).export("csv")


@dataclass
class RowResult:
    number: int  # the row as a spreadsheet numbers it (the header is row 1)
    outcome: str = ""  # create | update | unchanged | refused
    label: str = ""  # what the row is about, e.g. the client's name
    changed: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


@dataclass
class Preview:
    kind: str
    rows: list[RowResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    written: bool = False

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.outcome for r in self.rows)
        return {o: found.get(o, 0) for o in OUTCOMES}

    @property
    def ok(self) -> bool:
        return not self.errors and not self.counts["refused"]

    @property
    def messages(self) -> list[str]:
        return self.errors + [m for r in self.rows for m in r.messages]

    def summary(self) -> str:
        if self.errors:
            return "The file was refused: " + "; ".join(self.errors)
        counts = self.counts
        shown = ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o])
        return f"{len(self.rows)} rows: {shown or 'none'}"


class _Refused(Exception):
    """A row refused before a domain action saw it: (column, message) pairs."""

    def __init__(self, column: str, message: str, *more: tuple[str, str]):
        super().__init__(message)
        self.problems = [(column, message), *more]


class _Rollback(Exception):
    pass


# --- Reading ----------------------------------------------------------------------------


def read(kind: str, content: bytes | str) -> tuple[list[dict[str, str]], list[str]]:
    """The file's rows as {column: text} (cells stripped), or the reasons it cannot be read."""
    if kind not in COLUMNS:
        return [], [f"unknown kind {kind!r}: one of {', '.join(KINDS)}"]
    if isinstance(content, bytes):
        if len(content) > MAX_BYTES:
            return [], [f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"]
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], ["the file is not UTF-8 text; save it as CSV UTF-8"]
    if not content.strip():
        return [], ["the file is empty; the first row must name the columns"]
    # A spreadsheet set to a European locale saves with semicolons.
    header = content.lstrip().splitlines()[0]
    delimiter = ";" if ";" in header and "," not in header else ","
    try:
        data = tablib.Dataset().load(content, format="csv", delimiter=delimiter)
    except Exception:  # tablib says little more than "invalid dimensions"
        return [], ["every row must have as many cells as the header row has columns"]
    headers = [(h or "").strip().lower() for h in data.headers or []]
    errors = []
    unknown = [h for h in headers if h not in COLUMNS[kind]]
    if unknown:
        errors.append(
            f"row 1: unknown column(s) {', '.join(repr(h) for h in unknown)}; "
            f"the columns of {kind} are {', '.join(COLUMNS[kind])}"
        )
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if twice:
        errors.append(f"row 1: column(s) {', '.join(twice)} appear more than once")
    if kind in ("contacts", "services") and not {"client_id", "client_external_id"} & set(headers):
        errors.append("row 1: a client_id or a client_external_id column is required")
    if len(data) > MAX_ROWS:
        errors.append(f"the file has {len(data)} rows; at most {MAX_ROWS} are imported at once")
    if errors:
        return [], errors
    rows = [
        {h: (cell or "").strip() for h, cell in zip(headers, values, strict=True)}
        for values in data
    ]
    return rows, []


# --- Running ----------------------------------------------------------------------------


def preview(company: Company, kind: str, content: bytes | str) -> Preview:
    """What importing the file would do, row by row; nothing is written."""
    return _run(company, kind, content, actor="import:csv", commit=False)


def apply(company: Company, kind: str, content: bytes | str, *, actor: str) -> Preview:
    """Import the file, all or nothing: written only when no row is refused
    (`Preview.written` says whether it was)."""
    return _run(company, kind, content, actor=actor, commit=True)


def _run(company: Company, kind: str, content, *, actor: str, commit: bool) -> Preview:
    result = Preview(kind=kind)
    rows, result.errors = read(kind, content)
    if result.errors:
        return result
    try:
        with transaction.atomic():
            _Import(company, kind, actor).run(rows, result)
            if not commit or not result.ok:
                raise _Rollback
    except _Rollback:
        return result
    result.written = True
    return result


class _Import:
    def __init__(self, company: Company, kind: str, actor: str):
        self.company, self.kind, self.actor = company, kind, actor
        ids = ExternalId.objects.filter(system=SYSTEM, table__startswith=f"{company.pk}:")
        self.ids = {(e.table, e.source_id): e for e in ids}
        self.today = local_date(clock.now(), company.timezone)

    def table(self, kind: str) -> str:
        return f"{self.company.pk}:{kind}"

    def remember(self, kind: str, source_id: str, object_id: int) -> None:
        key = (self.table(kind), source_id)
        row = self.ids.get(key)
        if row is None:
            self.ids[key] = ExternalId.objects.create(
                system=SYSTEM, table=key[0], source_id=source_id, object_id=object_id
            )
        elif row.object_id != object_id:
            row.object_id = object_id
            row.save(update_fields=["object_id", "updated_at"])

    def known(self, kind: str, source_id: str) -> int | None:
        row = self.ids.get((self.table(kind), source_id))
        return row.object_id if row else None

    def run(self, rows: list[dict[str, str]], result: Preview) -> None:
        handler = getattr(self, f"row_{self.kind}")
        self.prepare(rows)
        seen: dict[str, int] = {}
        for number, row in enumerate(rows, start=2):
            outcome = RowResult(number=number)
            result.rows.append(outcome)
            external = row.get("external_id", "")
            try:
                if external in seen:
                    raise _Refused("external_id", f"{external} is on row {seen[external]} too")
                with transaction.atomic():  # a refused row leaves nothing behind
                    handler(row, outcome)
                    if external:
                        seen[external] = number
            except _Refused as exc:
                outcome.outcome = "refused"
                outcome.messages += [f"row {number}, column {c}: {m}" for c, m in exc.problems]
            except DomainError as exc:
                outcome.outcome = "refused"
                errors = exc.errors or [FieldError("", exc.message)]
                for error in errors:
                    column = self.column_of(error.field)
                    outcome.messages.append(f"row {number}, column {column}: {error.message}")

    def column_of(self, field_name: str) -> str:
        columns = COLUMNS[self.kind]
        if field_name == "group_id":
            return "group"
        if field_name in ("pricing", "package_id", "pricing_id"):
            return "package"
        return field_name if field_name in columns else (field_name or "-")

    # -- shared lookups, read once per file

    def prepare(self, rows: list[dict[str, str]]) -> None:
        company = self.company
        self.groups = {g.name.casefold(): g for g in ClientGroup.objects.filter(company=company)}
        client_ids = {r["client_id"] for r in rows if r.get("client_id", "").isdigit()}
        client_ids |= {
            self.known("clients", r["client_external_id"])
            for r in rows
            if r.get("client_external_id")
        }
        if self.kind == "clients":
            client_ids |= {
                self.known("clients", r["external_id"]) for r in rows if r.get("external_id")
            }
        client_ids.discard(None)
        self.clients = Client.objects.filter(company=company).in_bulk([int(i) for i in client_ids])
        self.primaries = {
            c.client_id: c
            for c in Contact.objects.filter(
                client_id__in=list(self.clients), role=ContactRole.PRIMARY
            )
        }
        if self.kind == "contacts":
            pks = [self.known("contacts", r["external_id"]) for r in rows if r.get("external_id")]
            self.contacts = Contact.objects.filter(client__company=company).in_bulk(
                [pk for pk in pks if pk]
            )
        if self.kind == "services":
            self.packages = list(Package.objects.filter(company=company).prefetch_related("prices"))
            pks = [self.known("services", r["external_id"]) for r in rows if r.get("external_id")]
            self.services = Service.objects.filter(client__company=company).in_bulk(
                [pk for pk in pks if pk]
            )

    def client_of(self, row: dict[str, str]) -> Client:
        """The existing client a contacts or services row names."""
        by_id, by_external = row.get("client_id", ""), row.get("client_external_id", "")
        if by_id and by_external:
            raise _Refused("client_id", "give client_id or client_external_id, not both")
        if by_external:
            pk = self.known("clients", by_external)
            client = self.clients.get(pk) if pk else None
            if client is None:
                raise _Refused(
                    "client_external_id",
                    f"no client of this company was imported with external id {by_external}",
                )
            return client
        if not by_id:
            raise _Refused("client_id", "is required (or client_external_id)")
        client = self.clients.get(int(by_id)) if by_id.isdigit() else None
        if client is None:
            raise _Refused("client_id", f"no client #{by_id} in this company")
        return client

    # -- clients

    def client_values(self, row: dict[str, str]) -> dict[str, Any]:
        """The row as create_client/update_client take it; what they cannot read (a group
        name, a yes/no) is refused here, every column at once."""
        data: dict[str, Any] = {}
        problems = []
        if row.get("group", ""):
            group = self.groups.get(row["group"].casefold())
            if group is None:
                known = ", ".join(sorted(g.name for g in self.groups.values()))
                problems.append(("group", f'no client group "{row["group"]}" (groups: {known})'))
            else:
                data["group_id"] = group.pk
        for name in clients.CLIENT_ATTRIBUTES:
            value = row.get(name, "")
            if not value:
                continue
            if Client._meta.get_field(name).get_internal_type() == "BooleanField":
                folded = value.casefold()
                if folded not in _TRUE | _FALSE:
                    problems.append((name, "must be true or false (or yes/no, 1/0)"))
                data[name] = folded in _TRUE
            else:
                data[name] = value
        for name in CONTACT_FIELD_NAMES:
            if row.get(name, ""):
                data[name] = row[name]
        if problems:
            raise _Refused(*problems[0], *problems[1:])
        return data

    def row_clients(self, row: dict[str, str], out: RowResult) -> None:
        external, by_id = row.get("external_id", ""), row.get("client_id", "")
        client = None
        if by_id:
            client = self.clients.get(int(by_id)) if by_id.isdigit() else None
            if client is None:
                raise _Refused("client_id", f"no client #{by_id} in this company")
        elif external:
            pk = self.known("clients", external)
            client = self.clients.get(pk) if pk else None
        data = self.client_values(row)
        out.label = " ".join(filter(None, (row.get("first_name"), row.get("last_name"))))
        if client is None:
            client = clients.create_client(self.company, data, actor=self.actor)
            out.outcome = "create"
            out.changed = sorted("group" if k == "group_id" else k for k in data)
        else:
            out.label = out.label or f"client #{client.pk}"
            changes = self.client_changes(client, data)
            if changes:
                clients.update_client(client, changes, actor=self.actor)
            out.outcome = "update" if changes else "unchanged"
            out.changed = sorted("group" if k == "group_id" else k for k in changes)
        if external:
            self.remember("clients", external, client.pk)

    def client_changes(self, client: Client, data: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: val for k, val in data.items() if k in clients.CLIENT_CLEANERS}
        cleaned, errors = v.collect(attributes, clients.CLIENT_CLEANERS)
        if errors:
            raise _Refused(errors[0].field, errors[0].message)
        changes = {k: data[k] for k, val in cleaned.items() if getattr(client, k) != val}
        if "group_id" in data and data["group_id"] != client.group_id:
            changes["group_id"] = data["group_id"]
        contact = self.primaries.get(client.pk)
        fields = {k: val for k, val in data.items() if k in CONTACT_FIELD_NAMES}
        if contact is not None:
            changes |= differing(contact, fields)
        else:
            changes |= fields
        return changes

    # -- contacts

    def row_contacts(self, row: dict[str, str], out: RowResult) -> None:
        client = self.client_of(row)
        external = row.get("external_id", "")
        fields = {k: row[k] for k in CONTACT_FIELD_NAMES if row.get(k, "")}
        out.label = " ".join(filter(None, (row.get("first_name"), row.get("last_name"))))
        out.label = out.label or row.get("email", "")
        pk = self.known("contacts", external) if external else None
        contact = self.contacts.get(pk) if pk else None
        if contact is not None and contact.client_id != client.pk:
            raise _Refused(
                "external_id",
                f"{external} is a contact of client #{contact.client_id}; "
                "a contact cannot move to another client",
            )
        if contact is None:
            role = (row.get("role", "") or ContactRole.OTHER).lower()
            contact = clients.add_contact(client, {"role": role, **fields}, actor=self.actor)
            out.outcome, out.changed = "create", sorted(fields)
        else:
            changes = differing(contact, fields)
            if changes:
                clients.update_contact(contact, changes, actor=self.actor)
            out.outcome = "update" if changes else "unchanged"
            out.changed = sorted(changes)
        if external:
            self.remember("contacts", external, contact.pk)

    # -- services

    def row_services(self, row: dict[str, str], out: RowResult) -> None:
        client = self.client_of(row)
        out.label = f"client #{client.pk}"
        package = self.package(row.get("package", ""))
        out.label = f"{package.name}, client #{client.pk}"
        unit, count = _term(row.get("term", ""))
        currency = row.get("currency", "") or client.default_currency
        try:
            currency = clean_currency(currency)
        except ValueError as exc:
            raise _Refused("currency", str(exc)) from None
        price = price_for(package, unit, count, currency)
        if price is None:
            sold = ", ".join(f"{p.term_label()} {p.currency}" for p in package.prices.all())
            raise _Refused(
                "term",
                f'package "{package.name}" has no price for {row["term"]} in {currency}'
                f" (it is sold: {sold or 'no way yet'})",
            )
        status = SERVICE_STATUSES.get(row.get("status", "").lower())
        if status is None:
            raise _Refused("status", "must be active, suspended or cancelled")
        start = _date(row, "start_date", required=True)
        renew = _date(row, "renew_date")
        if renew is not None and renew < start:
            raise _Refused("renew_date", "must not be before start_date")
        if price.recurring and status != ServiceStatus.CANCELED and renew is None:
            renew = self.next_renewal(start, price.term)
        quantity = row.get("quantity", "") or "1"
        if not quantity.isdigit():
            raise _Refused("quantity", "must be a whole number")
        data = service_actions.ImportedService(
            pricing=price,
            status=status,
            quantity=int(quantity),
            renew_date=renew if status != ServiceStatus.CANCELED else None,
            suspension_reason="imported as suspended" if status == ServiceStatus.SUSPENDED else "",
        )
        external = row.get("external_id", "")
        pk = self.known("services", external) if external else None
        existing = self.services.get(pk) if pk else None
        if existing is not None and existing.client_id != client.pk:
            raise _Refused(
                "external_id",
                f"{external} is a service of client #{existing.client_id}; "
                "a service cannot move to another client",
            )
        before = (
            {
                k: getattr(existing, k)
                for k in ("package_id", "pricing_id", "quantity", "status", "renew_date")
            }
            if existing
            else {}
        )
        service, changed = service_actions.import_service(
            client, data, actor=self.actor, existing=existing
        )
        out.label = (
            f"{package.name}, {price.term_label()} {currency}, client #{client.pk}: {status}"
        )
        out.label += f", renews {renew.isoformat()}" if data.renew_date else ""
        if existing is None:
            out.outcome = "create"
        else:
            out.outcome = "update" if changed else "unchanged"
            out.changed = sorted(k for k, val in before.items() if getattr(service, k) != val)
        if external:
            self.remember("services", external, service.pk)

    def package(self, name: str) -> Package:
        if not name:
            raise _Refused("package", "is required: the package's name or id")
        folded = name.casefold()
        for package in self.packages:
            if package.name.casefold() == folded or str(package.pk) == name:
                return package
        raise _Refused("package", f'no package "{name}" in this company')

    def next_renewal(self, start: date, term: Term) -> date:
        """The first period not invoiced by the system the service comes from: the start
        when it lies ahead, else the one after the period holding today."""
        if start >= self.today:
            return start
        return period_start(start, term, period_index(start, term, self.today) + 1)


def _term(text: str) -> tuple[str, int]:
    """'1 month', '12 months', '1 year', 'one time' → (unit, count)."""
    folded = " ".join(text.lower().split())
    if folded in ("one time", "onetime", "one-time"):
        return PricingUnit.ONETIME, 1
    parts = folded.split(" ")
    if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) >= 1:
        unit = parts[1].removesuffix("s")
        if unit in {u.value for u in TermUnit}:
            return unit, int(parts[0])
    raise _Refused("term", "must be like 1 month, 12 months, 1 year or one time")


def _date(row: dict[str, str], column: str, *, required: bool = False) -> date | None:
    value = row.get(column, "")
    if not value:
        if required:
            raise _Refused(column, "is required (YYYY-MM-DD)")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Refused(column, f"{value} is not a date in the form YYYY-MM-DD") from None


# --- Uploads kept between the preview and the import (the staff web page) ----------------


def keep_upload(company: Company, kind: str, content: bytes, *, filename: str, actor: str):
    """Keep an uploaded file for its import step; uploads older than a day are dropped."""
    CsvUpload.objects.filter(created_at__lt=clock.now() - timedelta(days=1)).delete()
    return CsvUpload.objects.create(
        company=company,
        kind=kind,
        filename=filename[:255],
        content=content,
        sha256=sha256(content).hexdigest(),
        uploaded_by=actor,
    )


def take_upload(company: Company, upload_id: Any, digest: str, *, actor: str):
    """The upload this user previewed for this company, unchanged since (its hash)."""
    upload = CsvUpload.objects.filter(
        pk=v.parse_id(upload_id) or 0, company=company, uploaded_by=actor, sha256=digest
    ).first()
    if upload is None:
        raise NotFound("That upload is gone (uploads are kept for a day); upload the file again.")
    return upload

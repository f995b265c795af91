"""The Blesta 5.x importer (../shared/IMPORT.md): per Blesta company, its settings, client
groups with their settings, clients with their settings and contacts, packages with their
prices, services, invoices with their lines, and transactions with what they paid.

Everything is created through the domain apps' own functions (company, groups, clients,
contacts, packages and the settings import with its Blesta dialect) or their import
functions (`services.imports`, `billing.imports`: rows as the source has them, nothing sent
or charged). One company is imported in one transaction: a row the importer cannot take
(a broken value, a status its money contradicts) stops that company's import with a
ValidationFailed naming the table, the row's id and the field, and nothing of that company
is written. A dry run does the same work and rolls it back, so its report is exactly what a
real run would do.

Every object made is remembered by (blesta, table, source id) in `ExternalId`: a second
run updates what changed and leaves the rest, so it changes nothing on an unchanged source.

Dates: Blesta stores DATETIMEs in UTC; a date is taken in the company's time zone (its
`timezone` setting). Money: DECIMAL(19,4), rounded to the currency's `precision` in
Blesta, in minor units of the currency."""

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from groupbill import money
from groupbill import validation as v
from groupbill.billing import imports as billing_imports
from groupbill.billing import lock_objects
from groupbill.billing.models import Invoice, InvoiceStatus, Transaction, TransactionStatus
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients import actions as clients
from groupbill.clients.models import Client, ClientGroup, Contact, ContactRole
from groupbill.clients.queries import primary_contact
from groupbill.companies.actions import create_company, update_company
from groupbill.companies.models import Company
from groupbill.importers.frame import (
    CompanyImport,
    CompanyReport,
    Ids,
    Report,
    broken,
    differing,
    find,
    run_company,
)
from groupbill.importers.reader import Reader
from groupbill.periods import local_date
from groupbill.services import actions as service_actions
from groupbill.services.models import Service
from groupbill.settings_catalog import blesta, transfer
from groupbill.settings_catalog.catalog import BY_LEGACY_KEY, CLIENT_KEYS
from groupbill.settings_catalog.types import InvalidValue

SYSTEM = "blesta"
ACTOR = "import:blesta"

# A contact's columns, named as Groupbill names its fields.
CONTACT_COLUMNS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "email",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "country",
)
# The tables and columns read (IMPORT.md), each table's rows in id order.
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "companies": (("id", "name"), ("id",)),
    "settings": (("key", "value", "encrypted", "inherit"), ("key",)),
    "company_settings": (("key", "company_id", "value", "encrypted"), ("company_id", "key")),
    "client_groups": (("id", "company_id", "name", "description", "color"), ("id",)),
    "client_group_settings": (
        ("key", "client_group_id", "value", "encrypted"),
        ("client_group_id", "key"),
    ),
    "clients": (("id", "id_format", "id_value", "client_group_id", "status"), ("id",)),
    "client_settings": (("key", "client_id", "value", "encrypted"), ("client_id", "key")),
    "contacts": (("id", "client_id", "contact_type", *CONTACT_COLUMNS), ("id",)),
    "contact_numbers": (("id", "contact_id", "number", "type"), ("id",)),
    "currencies": (("code", "company_id", "precision"), ("company_id", "code")),
    "packages": (("id", "company_id", "status"), ("id",)),
    "package_names": (("package_id", "lang", "name"), ("package_id", "lang")),
    "pricings": (
        ("id", "term", "period", "price", "price_renews", "setup_fee", "cancel_fee", "currency"),
        ("id",),
    ),
    "package_pricing": (("id", "package_id", "pricing_id"), ("id",)),
    "services": (
        (
            "id",
            "parent_service_id",
            "pricing_id",
            "client_id",
            "qty",
            "override_price",
            "status",
            "suspension_reason",
            "date_added",
            "date_renews",
            "date_last_renewed",
            "date_suspended",
            "date_canceled",
        ),
        ("id",),
    ),
    "invoices": (
        (
            "id",
            "id_format",
            "id_value",
            "client_id",
            "date_billed",
            "date_due",
            "date_closed",
            "status",
            "subtotal",
            "total",
            "paid",
            "currency",
        ),
        ("id",),
    ),
    "invoice_lines": (("id", "invoice_id", "service_id", "description", "qty", "amount"), ("id",)),
    "transactions": (
        (
            "id",
            "client_id",
            "amount",
            "currency",
            "type",
            "transaction_type_id",
            "transaction_id",
            "status",
            "date_added",
        ),
        ("id",),
    ),
    "transaction_applied": (
        ("transaction_id", "invoice_id", "amount"),
        ("transaction_id", "invoice_id"),
    ),
}

# Company settings the importer takes as company attributes, not as catalogue settings.
COMPANY_ATTRIBUTE_KEYS = {"timezone": "timezone", "default_currency": "default_currency"}
# Client settings that are client attributes in Groupbill.
CLIENT_ATTRIBUTE_KEYS = {
    "tax_exempt": "tax_exempt",
    "tax_id": "tax_id",
    "default_currency": "default_currency",
    "language": "language",
    "autosuspend": "autosuspend",
    "autosuspend_date": "suspension_delayed_until",
}
TRANSACTION_METHODS = {1: "cash", 2: "check", 3: "money_order", 4: "credit"}
SERVICE_STATUSES = {
    "active": "active",
    "suspended": "suspended",
    "canceled": "canceled",
    "pending": "pending",
    "in_review": "pending",
}
TRANSACTION_STATUSES = {
    "approved": "approved",
    "declined": "declined",
    "void": "void",
    "error": "error",
    "pending": "pending",
    "refunded": "void",  # the money went back: no funds left (Blesta's credit is 0)
    "returned": "void",
}
# What an earlier run made from each table lies in the company's rows of these models.
MADE = {
    "clients": (Client, "company"),
    "contacts": (Contact, "client__company"),
    "packages": (Package, "company"),
    "services": (Service, "client__company"),
    "invoices": (Invoice, "company"),
    "transactions": (Transaction, "company"),
}


class _Company(CompanyImport):
    """One Blesta company's import: its rows, its zone and currencies, what it made."""

    MADE = MADE
    ACTOR = ACTOR

    def __init__(self, data: dict[str, list[dict]], row: dict, ids: Ids, report: CompanyReport):
        super().__init__(data, ids, report)
        self.row = row
        self.timezone = "UTC"
        self.created_company = False
        self._by_owner: dict[tuple[str, str], dict[Any, list[dict]]] = {}

    # -- helpers

    def moment(self, table: str, row: dict, column: str) -> datetime | None:
        """A DATETIME column (UTC in Blesta) as an aware moment; MySQL's zero date (which
        PyMySQL gives as text) and anything else that is not a date is refused."""
        value = row[column]
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise broken(table, row["id"], column, f"{value!s} is not a date and time")
        return value.replace(tzinfo=UTC)

    def date(self, table: str, row: dict, column: str) -> date | None:
        """A DATETIME column as the company's calendar day."""
        moment = self.moment(table, row, column)
        return local_date(moment, self.timezone) if moment else None

    def settings_rows(self, table: str, owner: str, owner_id: Any) -> dict[str, str]:
        """Plain (not encrypted) values of one owner; encrypted keys are reported."""
        if (table, owner) not in self._by_owner:  # indexed once: a lookup per owner
            index: dict[Any, list[dict]] = defaultdict(list)
            for r in self.data[table]:
                index[r[owner]].append(r)
            self._by_owner[(table, owner)] = index
        out = {}
        for r in self._by_owner[(table, owner)].get(owner_id, ()):
            if r["encrypted"]:
                self.report.unmapped[r["key"]] = "encrypted: needs Blesta's install key, skipped"
                continue
            out[r["key"]] = "" if r["value"] is None else str(r["value"])
        return out

    # -- the company and its settings

    def company_values(self) -> dict[str, str]:
        """The company's values: its own rows over the system's inherited ones."""
        system = {
            r["key"]: "" if r["value"] is None else str(r["value"])
            for r in self.data["settings"]
            if r["inherit"] and not r["encrypted"]
        }
        return system | self.settings_rows("company_settings", "company_id", self.row["id"])

    def import_company(self) -> None:
        values = self.company_values()
        self.timezone = values.get("timezone") or "UTC"
        self.precision = {
            r["code"]: int(r["precision"])
            for r in self.data["currencies"]
            if r["company_id"] == self.row["id"]
        }
        wanted = {
            "name": self.row["name"],
            "timezone": self.timezone,
            "default_currency": values.get("default_currency") or "USD",
        }
        table, rid = "companies", self.row["id"]
        company, self.created_company, changed = self.upsert(
            table,
            rid,
            find(Company, self.ids, table, rid),
            create=partial(create_company, wanted),
            update=update_company,
            wanted=wanted,
        )
        self.done("companies", table, rid, company, self.created_company, changed)
        self.company = company
        self.report.company_id = company.pk

    def import_groups(self) -> dict[int, ClientGroup]:
        """The company's groups in Blesta's id order: the first is the default group in
        both systems, so it takes the place of the group the new company came with."""
        rows = [r for r in self.data["client_groups"] if r["company_id"] == self.row["id"]]
        groups: dict[int, ClientGroup] = {}
        existing = {g.pk: g for g in ClientGroup.objects.filter(company=self.company)}
        for i, row in enumerate(rows):
            color = (row["color"] or "").strip()
            try:
                color = clients.clean_color(f"#{color.lstrip('#')}" if color else "")
            except ValueError as exc:
                raise broken("client_groups", row["id"], "color", str(exc)) from None
            wanted = {"name": row["name"], "description": row["description"] or "", "color": color}
            group = existing.get(self.ids.get("client_groups", row["id"]))
            if group is None and i == 0 and self.created_company:
                group = existing[min(existing)]  # the default group create_company made
            group, created, changed = self.upsert(
                "client_groups",
                row["id"],
                group,
                create=partial(clients.create_group, self.company, wanted),
                update=clients.update_group,
                wanted=wanted,
            )
            # The default group the new company came with counts as made by this import.
            fresh = created or (i == 0 and self.created_company)
            self.done("client_groups", "client_groups", row["id"], group, fresh, changed)
            groups[row["id"]] = group
        return groups

    def import_settings(self, groups: dict[int, ClientGroup]) -> None:
        """Company and group settings through the settings import (Blesta dialect): every
        group is named, so a group without rows inherits everything again."""
        company = {
            k: v for k, v in self.company_values().items() if k not in COMPANY_ATTRIBUTE_KEYS
        }
        document = {"company": company, "groups": {}}
        group_source = {}
        for source_id, group in groups.items():
            document["groups"][group.name] = self.settings_rows(
                "client_group_settings", "client_group_id", source_id
            )
            group_source[group.name] = source_id

        def locate(problem) -> tuple[str, Any, str]:
            parts = problem.field.split(".")
            if parts[0] == "groups" and len(parts) >= 3:
                rid = group_source.get(parts[1], parts[1])
                return "client_group_settings", rid, ".".join(parts[2:])
            if parts[0] == "company" and len(parts) >= 2:
                return "company_settings", self.row["id"], ".".join(parts[1:])
            return "company_settings", self.row["id"], problem.field  # a cross-key rule

        plan = transfer.plan_import(self.company, document, dialect="blesta")
        self.take_settings(plan, locate)
        for values in (company, *document["groups"].values()):
            self.report.mapped_keys |= {key for key in values if key in BY_LEGACY_KEY}

    # -- clients and contacts

    def _contact_fields(self, row: dict, numbers: dict[int, list[dict]]) -> dict[str, str]:
        fields = {name: row[name] or "" for name in CONTACT_COLUMNS}
        for kind in ("phone", "fax"):
            found = [n["number"] for n in numbers.get(row["id"], []) if n["type"] == kind]
            fields[kind] = found[0] if found else ""
        return fields

    def _client_settings(self, row: dict) -> tuple[dict[str, Any], dict[str, Any]]:
        """The client's attributes and its settings (Groupbill keys), from its rows."""
        attributes: dict[str, Any] = {}
        settings: dict[str, Any] = {}
        for key, value in self.settings_rows("client_settings", "client_id", row["id"]).items():
            if key in CLIENT_ATTRIBUTE_KEYS:
                name = CLIENT_ATTRIBUTE_KEYS[key]
                if name in ("tax_exempt", "autosuspend"):
                    if value not in ("true", "false"):
                        raise broken("client_settings", row["id"], key, 'must be "true" or "false"')
                    attributes[name] = value == "true"
                elif name == "suspension_delayed_until":
                    attributes[name] = value[:10] or None
                else:
                    attributes[name] = value
                self.report.mapped_keys.add(key)
                continue
            setting = BY_LEGACY_KEY.get(key)
            if setting is None or setting.key not in CLIENT_KEYS:
                self.report.unmapped.setdefault(
                    key, "not a client setting Groupbill knows: ignored"
                )
                continue
            try:
                settings[setting.key], _ = blesta.parse(setting, value)
            except InvalidValue as exc:
                raise broken("client_settings", row["id"], key, str(exc)) from None
            self.report.mapped_keys.add(key)
        return attributes, settings

    def import_clients(self, groups: dict[int, ClientGroup]) -> dict[int, Client]:
        rows = [r for r in self.data["clients"] if r["client_group_id"] in groups]
        client_ids = {r["id"] for r in rows}
        contacts: dict[int, list[dict]] = defaultdict(list)
        for c in self.data["contacts"]:
            if c["client_id"] in client_ids:
                contacts[c["client_id"]].append(c)
        numbers: dict[int, list[dict]] = defaultdict(list)
        for n in self.data["contact_numbers"]:
            numbers[n["contact_id"]].append(n)
        explicit = self.explicit_settings()
        out = {}
        for row in rows:
            out[row["id"]] = self._client(row, groups, contacts[row["id"]], numbers, explicit)
        return out

    def _client(self, row, groups, contacts, numbers, explicit) -> Client:
        rid = row["id"]
        primaries = [c for c in contacts if c["contact_type"] == "primary"]
        if len(primaries) != 1:
            raise broken(
                "clients",
                rid,
                "contacts",
                f"has {len(primaries)} primary contacts; a client needs one",
            )
        primary = primaries[0]
        attributes, settings = self._client_settings(row)
        attributes["status"] = row["status"]
        group = groups[row["client_group_id"]]
        fields = self._contact_fields(primary, numbers)
        from_contact = {name: ("contacts", primary["id"], name) for name in fields}
        from_contact |= {
            name: ("client_settings", rid, key) for key, name in CLIENT_ATTRIBUTE_KEYS.items()
        }

        def changes(client: Client) -> dict[str, Any]:
            cleaned, errors = v.collect(attributes, clients.CLIENT_CLEANERS)
            if errors:
                raise broken("client_settings", rid, errors[0].field, errors[0].message)
            found = {k: attributes[k] for k, val in cleaned.items() if getattr(client, k) != val}
            if client.group_id != group.pk:
                found["group_id"] = group.pk
            return found | differing(primary_contact(client), fields)

        client, created, changed = self.upsert(
            "clients",
            rid,
            self.made("clients", rid),
            create=partial(
                clients.create_client, self.company, {"group_id": group.pk, **attributes, **fields}
            ),
            update=clients.update_client,
            changes=changes,
            rows=from_contact,
        )
        # Client settings: what Blesta holds, the rest inherits again.
        wrote = self.write_client_settings(
            "client_settings", rid, client, settings, explicit.get(client.pk, {})
        )
        self.done("clients", "clients", rid, client, created, changed or wrote)
        self.ids.remember("contacts", primary["id"], primary_contact(client).pk)
        self.report.count("contacts", "created" if created else "unchanged")
        for contact_row in contacts:
            if contact_row is not primary:
                self._other_contact(client, contact_row, numbers)
        return client

    def _other_contact(self, client: Client, row: dict, numbers) -> None:
        role = {"billing": ContactRole.BILLING}.get(row["contact_type"], ContactRole.OTHER)
        fields = self._contact_fields(row, numbers)
        contact, created, changed = self.upsert(
            "contacts",
            row["id"],
            self.made("contacts", row["id"], client),
            create=partial(clients.add_contact, client, {"role": role, **fields}),
            update=clients.update_contact,
            changes=lambda contact: differing(contact, fields),
        )
        self.done("contacts", "contacts", row["id"], contact, created, changed)

    # -- packages and prices

    def import_packages(self) -> dict[int, PackagePrice]:
        """The company's packages; returns package_pricing id → the price it became."""
        pricings = {r["id"]: r for r in self.data["pricings"]}
        names: dict[int, dict[str, str]] = defaultdict(dict)
        for r in self.data["package_names"]:
            names[r["package_id"]][r["lang"]] = r["name"]
        links: dict[int, list[dict]] = defaultdict(list)
        for r in self.data["package_pricing"]:
            links[r["package_id"]].append(r)
        out: dict[int, PackagePrice] = {}
        for row in self.data["packages"]:
            if row["company_id"] == self.row["id"]:
                out |= self._package(row, names[row["id"]], links[row["id"]], pricings)
        return out

    def _price(self, link: dict, pricings: dict[int, dict]) -> dict[str, Any]:
        p = pricings.get(link["pricing_id"])
        if p is None:
            raise broken(
                "package_pricing",
                link["id"],
                "pricing_id",
                f"names pricing {link['pricing_id']}, which does not exist",
            )
        currency = self.currency("pricings", p["id"], "currency", p["currency"])
        price = self.minor("pricings", p["id"], "price", p["price"], currency)
        if p["price_renews"] is not None and Decimal(p["price_renews"]) != Decimal(p["price"]):
            self.report.notes.append(
                f"pricings id {p['id']}: renews at {p['price_renews']} {currency}, not at its "
                f"price; Groupbill renews at the price ({p['price']})"
            )
        if p["cancel_fee"] and Decimal(p["cancel_fee"]):
            self.report.notes.append(f"pricings id {p['id']}: its cancellation fee is not imported")
        onetime = p["period"] == "onetime"
        return {
            "unit": p["period"],
            "count": 1 if onetime else self.whole("pricings", p["id"], "term", p["term"]),
            "currency": currency,
            "price": price,
            "setup_fee": self.minor(
                "pricings", p["id"], "setup_fee", p["setup_fee"] or 0, currency
            ),
        }

    def _package(self, row, names, links, pricings) -> dict[int, PackagePrice]:
        rid = row["id"]
        name = names.get("en_us") or next(iter(names.values()), "") or f"Package {rid}"
        if row["status"] == "restricted":
            self.report.notes.append(f"packages id {rid}: restricted in Blesta, inactive here")
        prices = [self._price(link, pricings) for link in links]
        wanted = {"name": name, "active": row["status"] == "active"}
        package, created, changed = self.upsert_package(
            "packages", rid, self.made("packages", rid), wanted, prices
        )
        self.done("packages", "packages", rid, package, created, changed)
        by_term = {(p.unit, p.count, p.currency): p for p in package.prices.all()}
        return {
            link["id"]: by_term[(price["unit"], price["count"], price["currency"])]
            for link, price in zip(links, prices, strict=True)
        }

    # -- services

    def import_services(self, clients_by_id, prices) -> dict[int, Service]:
        rows = [r for r in self.data["services"] if r["client_id"] in clients_by_id]
        # Parents before their addons.
        rows.sort(key=lambda r: (r["parent_service_id"] is not None, r["id"]))
        out: dict[int, Service] = {}
        for row in rows:
            out[row["id"]] = self._service(row, clients_by_id[row["client_id"]], prices, out)
        return out

    def _service(self, row, client, prices, done) -> Service:
        rid = row["id"]
        t = "services"
        price = prices.get(row["pricing_id"])
        if price is None:
            raise broken(
                t,
                rid,
                "pricing_id",
                f"names package pricing {row['pricing_id']}, not one of this company's",
            )
        status = SERVICE_STATUSES.get(row["status"])
        if status is None:
            raise broken(t, rid, "status", f"{row['status']!r} is not a Blesta service status")
        if row["status"] == "in_review":
            self.report.notes.append(f"services id {rid}: in review in Blesta, pending here")
        parent = None
        if row["parent_service_id"]:
            parent = done.get(row["parent_service_id"])
            if parent is None:
                raise broken(
                    t,
                    rid,
                    "parent_service_id",
                    f"names service {row['parent_service_id']}, not one of this company's",
                )
        if row["override_price"] is not None:
            self.report.notes.append(
                f"services id {rid}: its override price {row['override_price']} is not "
                "imported; it renews at its package's price"
            )
        canceled = self.moment(t, row, "date_canceled")
        scheduled = canceled is not None and status != "canceled"
        data = service_actions.ImportedService(
            pricing=price,
            status=status,
            quantity=self.whole(t, rid, "qty", row["qty"]),
            parent=parent,
            renew_date=self.date(t, row, "date_renews") if status != "canceled" else None,
            last_renewed_on=self.date(t, row, "date_last_renewed"),
            suspension_reason=row["suspension_reason"] or "",
            suspended_at=self.moment(t, row, "date_suspended"),
            cancel_at=self.date(t, row, "date_canceled") if scheduled else None,
            canceled_at=canceled if status == "canceled" else None,
        )
        service, _ = self.import_row(
            "services", t, rid, service_actions.import_service, client, data
        )
        return service

    # -- invoices and transactions

    def import_invoices(self, clients_by_id, services) -> dict[int, Invoice]:
        lines: dict[int, list[dict]] = defaultdict(list)
        for r in self.data["invoice_lines"]:
            lines[r["invoice_id"]].append(r)
        out = {}
        for row in self.data["invoices"]:
            client = clients_by_id.get(row["client_id"])
            if client is not None:
                out[row["id"]] = self._invoice(row, client, lines[row["id"]], services)
        return out

    def _invoice(self, row, client, lines, services) -> Invoice:
        rid, t = row["id"], "invoices"
        currency = self.currency(t, rid, "currency", row["currency"])
        if row["status"] == "draft":
            status, number = InvoiceStatus.DRAFT, None
        elif row["status"] == "void":
            status = InvoiceStatus.VOID
        elif row["status"] in ("active", "proforma"):
            status = InvoiceStatus.PAID if row["date_closed"] else InvoiceStatus.OPEN
        else:
            raise broken(t, rid, "status", f"{row['status']!r} is not a Blesta invoice status")
        if status != InvoiceStatus.DRAFT:
            number = self.whole(t, rid, "id_value", row["id_value"])
        imported_lines = []
        for line in lines:
            service = services.get(line["service_id"]) if line["service_id"] else None
            if line["service_id"] and service is None:
                self.report.notes.append(
                    f"invoice_lines id {line['id']}: names service {line['service_id']}, "
                    "not imported; the line is kept without it"
                )
            imported_lines.append(
                billing_imports.ImportedLine(
                    description=(line["description"] or "").strip() or "(no description)",
                    unit_amount=self.minor(
                        "invoice_lines", line["id"], "amount", line["amount"], currency
                    ),
                    quantity=self.whole("invoice_lines", line["id"], "qty", line["qty"]),
                    service_id=service.pk if service else None,
                )
            )
        subtotal = self.minor(t, rid, "subtotal", row["subtotal"], currency)
        total = self.minor(t, rid, "total", row["total"], currency)
        summed = sum(line.unit_amount * line.quantity for line in imported_lines)
        if summed != subtotal:
            raise broken(
                t,
                rid,
                "subtotal",
                f"is {money.format_plain(subtotal, currency)} {currency} but its lines "
                f"add up to {money.format_plain(summed, currency)} {currency}",
            )
        data = billing_imports.ImportedInvoice(
            status=status,
            currency=currency,
            number=number,
            issued_on=self.date(t, row, "date_billed"),
            due_on=self.date(t, row, "date_due"),
            lines=tuple(imported_lines),
            tax_total=total - subtotal,
            paid_at=self.moment(t, row, "date_closed"),
        )
        # Blesta's column names, where they differ from Groupbill's field names.
        columns = {"number": "id_value", "issued_on": "date_billed", "lines": "invoice_lines"}
        invoice, _ = self.import_row(
            "invoices",
            t,
            rid,
            billing_imports.import_invoice,
            client,
            data,
            rows={field: (t, rid, column) for field, column in columns.items()},
        )
        return invoice

    def import_transactions(self, clients_by_id, invoices) -> None:
        applied: dict[int, list[dict]] = defaultdict(list)
        for r in self.data["transaction_applied"]:
            applied[r["transaction_id"]].append(r)
        for row in self.data["transactions"]:
            client = clients_by_id.get(row["client_id"])
            if client is not None:
                self._transaction(row, client, applied[row["id"]], invoices)
        # Each invoice's paid amount as Blesta has it, and its status, against the money.
        by_pk = self.settle(invoices, "invoices", "date_closed")
        sources = {r["id"]: r for r in self.data["invoices"]}
        paid = dict(Invoice.objects.filter(pk__in=by_pk).values_list("pk", "amount_paid"))
        for pk, source_id in by_pk.items():
            row = sources[source_id]
            if row["status"] in ("void", "draft"):
                continue
            said = self.minor(
                "invoices", source_id, "paid", row["paid"], invoices[source_id].currency
            )
            if said != paid[pk]:
                raise broken(
                    "invoices",
                    source_id,
                    "paid",
                    f"says {row['paid']} but its transactions applied "
                    f"{money.format_plain(paid[pk], invoices[source_id].currency)}",
                )
        billing_imports.continue_numbering(self.company.pk)

    def _transaction(self, row, client, applied, invoices) -> None:
        rid, t = row["id"], "transactions"
        currency = self.currency(t, rid, "currency", row["currency"])
        status = TRANSACTION_STATUSES.get(row["status"])
        if status is None:
            raise broken(t, rid, "status", f"{row['status']!r} is not a Blesta transaction status")
        type_id = row["transaction_type_id"]
        method = (
            {"cc": "card", "ach": "ach"}.get(row["type"])
            or TRANSACTION_METHODS.get(type_id or 0)
            or "other"
        )
        note = ""
        if row["status"] in ("refunded", "returned"):
            note = f"{row['status']} in Blesta"
        data = billing_imports.ImportedTransaction(
            kind="credit" if type_id == 4 else "payment",
            status=status,
            currency=currency,
            amount=self.minor(t, rid, "amount", row["amount"], currency),
            method=method,
            reference=row["transaction_id"] or "",
            created_at=self.moment(t, row, "date_added"),
            note=note,
        )
        txn, created = self.import_row(
            "transactions", t, rid, billing_imports.import_transaction, client, data
        )
        amounts: dict[int, int] = {}
        for a in applied:
            invoice = invoices.get(a["invoice_id"])
            if invoice is None:
                raise broken(
                    "transaction_applied",
                    f"{rid}/{a['invoice_id']}",
                    "invoice_id",
                    "names an invoice of another client or company",
                )
            amounts[invoice.pk] = self.minor(
                "transaction_applied", f"{rid}/{a['invoice_id']}", "amount", a["amount"], currency
            )
        if status != TransactionStatus.APPROVED and amounts:
            raise broken(t, rid, "status", f"is {row['status']} but has amounts applied")
        self.apply_amounts(t, rid, txn, amounts, created)

    def _source_notes(self, services: dict, invoices: dict) -> None:
        """What the source holds that Groupbill keeps no place for, said once."""
        lines = {r["id"] for r in self.data["invoice_lines"] if r["invoice_id"] in invoices}
        for table, column, ids, what in (
            ("service_options", "service_id", services,
             "configurable options of services: not imported, the services renew without them"),
            ("invoice_line_taxes", "line_id", lines,
             "tax rows of invoice lines: each invoice's tax (total - subtotal) is kept, "
             "spread over its lines, without the rates"),
            ("invoice_delivery", "invoice_id", invoices,
             "delivery records of invoices: not imported"),
        ):  # fmt: skip
            count = sum(r[column] in ids for r in self.data.get(table, ()))
            if count:
                rows = f"{count} row" + ("s" if count != 1 else "")
                self.report.notes.append(f"{table}: {rows}, {what}")
        if self.data["clients"]:
            self.report.notes.append(
                "clients: Blesta's client numbers (id_format/id_value) and logins are not "
                "imported; staff grant portal access to the contacts that need it"
            )
        formats = sorted({
            r["id_format"] for r in self.data["invoices"]
            if r["status"] != "draft" and r["id_format"] != "{num}"
        })  # fmt: skip
        proforma = sum(
            r["status"] == "proforma" for r in self.data["invoices"] if r["id"] in invoices
        )
        if proforma:
            self.report.notes.append(
                f"invoices: {proforma} proforma, imported as issued invoices with their "
                "proforma numbers (Groupbill has no proforma numbering of its own)"
            )
        if formats:
            self.report.notes.append(
                f"invoices: numbered as {', '.join(formats)} in Blesta; Groupbill keeps the "
                "number ({num}) alone"
            )

    def run(self) -> None:
        self.import_company()
        groups = self.import_groups()
        self.import_settings(groups)
        clients_by_id = self.import_clients(groups)
        # The clients' services, invoices and money are written under their locks, in the
        # one order (client, services, invoices), as every other writer of them does.
        lock_objects.clients(c.pk for c in clients_by_id.values())
        prices = self.import_packages()
        services = self.import_services(clients_by_id, prices)
        invoices = self.import_invoices(clients_by_id, services)
        self.import_transactions(clients_by_id, invoices)
        self._source_notes(services, invoices)
        self.count_totals(clients_by_id.values())


# Tables read only to say what of them is not imported (absent tables are fine).
NOT_IMPORTED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "service_options": (("id", "service_id"), ("id",)),
    "invoice_line_taxes": (("line_id", "tax_id"), ("line_id", "tax_id")),
    "invoice_delivery": (("id", "invoice_id"), ("id",)),
}


def read(reader: Reader) -> dict[str, list[dict]]:
    """Every table the importer needs, whole (a ReaderError names what is missing)."""
    return reader.tables(TABLES, NOT_IMPORTED)


def run(data: dict[str, list[dict]], *, source: str, commit: bool) -> Report:
    """Import every company of the read source; each in one transaction, rolled back on a
    dry run (`commit` False) or when one of its rows is refused."""
    report = Report(source=source, dry_run=not commit, system="Blesta")
    for row in data["companies"]:
        part = CompanyReport(source_id=row["id"], name=row["name"])
        report.companies.append(part)
        company = _Company(data, row, Ids(SYSTEM), part)
        run_company(SYSTEM, part, company.run, commit=commit)
    return report


def import_blesta(dsn: str, *, commit: bool) -> Report:
    """Read the Blesta database at `dsn` and import it (a dry run unless `commit`)."""
    with Reader(dsn) as reader:
        data = read(reader)
        source = reader.source
    return run(data, source=source, commit=commit)

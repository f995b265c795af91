"""The WHMCS 8.x importer (../shared/IMPORT.md), on the frame the Blesta importer uses
(groupbill.importers.frame): a WHMCS install is one company. Its global billing settings
(tblconfiguration) become the company's settings and each client group's flags the
overrides they mean, through the settings import's WHMCS dialect; then client groups,
clients with their contacts, products with their pricing, services, invoices with their
items, and transactions (tblaccounts) with what they paid.

Everything is created through the domain apps' own functions. The company is imported in
one transaction: a row the importer cannot take stops it with a message naming the table,
the row's id and the field, and nothing is written. A dry run does the same and rolls it
back. What was made is remembered by (whmcs, table, id), so a rerun changes nothing on an
unchanged source.

Money: decimal(16,2) in the client's currency (tblclients.currency; invoices have none of
their own). Dates: DATE columns are the company's calendar days; DATETIMEs (naive server
time) are taken in the company's time zone. An invoice's `credit` (client credit WHMCS
applied to it) becomes a credit transaction applied to it, so the invoice keeps its full
total (subtotal + tax + tax2) and owes what WHMCS says it owes; a client's credit balance
(tblclients.credit) becomes loose credit. A refund (a tblaccounts row with amountout and
refundid) is imported as the payment it refunds, net of it."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from groupbill import money
from groupbill.billing import imports as billing_imports
from groupbill.billing import lock_objects
from groupbill.billing.models import Invoice, InvoiceStatus, Transaction
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
    changed_fields,
    differing,
    find,
    run_company,
)
from groupbill.importers.whmcs.reader import Reader, read
from groupbill.services import actions as service_actions
from groupbill.services.models import Service
from groupbill.settings_catalog import transfer, whmcs

SYSTEM = "whmcs"
ACTOR = "import:whmcs"
INSTALL_ID = 1  # a WHMCS database is one company

CONTACT_COLUMNS = {
    "first_name": "firstname",
    "last_name": "lastname",
    "company": "companyname",
    "email": "email",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "state": "state",
    "zip": "postcode",
    "country": "country",
    "phone": "phonenumber",
}
CLIENT_STATUSES = {"Active": "active", "Inactive": "inactive", "Closed": "inactive"}
# billingcycle → (unit, count, tblpricing's price column, its setup-fee column)
CYCLES = {
    "Monthly": ("month", 1, "monthly", "msetupfee"),
    "Quarterly": ("month", 3, "quarterly", "qsetupfee"),
    "Semi-Annually": ("month", 6, "semiannually", "ssetupfee"),
    "Annually": ("year", 1, "annually", "asetupfee"),
    "Biennially": ("year", 2, "biennially", "bsetupfee"),
    "Triennially": ("year", 3, "triennially", "tsetupfee"),
}
SERVICE_STATUSES = {
    "Pending": "pending",
    "Active": "active",
    "Suspended": "suspended",
    "Terminated": "canceled",
    "Cancelled": "canceled",
    "Fraud": "canceled",
    "Completed": "canceled",
}
INVOICE_STATUSES = {
    "Unpaid": InvoiceStatus.OPEN,
    "Payment Pending": InvoiceStatus.OPEN,
    "Collections": InvoiceStatus.OPEN,
    "Paid": InvoiceStatus.PAID,
    "Draft": InvoiceStatus.DRAFT,
    "Cancelled": InvoiceStatus.VOID,
    "Refunded": InvoiceStatus.VOID,
}
MADE = {
    "tblclients": (Client, "company"),
    "tblcontacts": (Contact, "client__company"),
    "tblproducts": (Package, "company"),
    "tblhosting": (Service, "client__company"),
    "tblinvoices": (Invoice, "company"),
    "tblaccounts": (Transaction, "company"),
    "tblinvoices.credit": (Transaction, "company"),
    "tblclients.credit": (Transaction, "company"),
}


def _on(value: Any) -> bool:
    """WHMCS's flags: "on" (or 1 in tinyint columns) is on; "", 0 or NULL off."""
    return str(value or "").strip().lower() in ("on", "1", "true", "yes")


class _Install(CompanyImport):
    """The one company a WHMCS install is."""

    MADE = MADE
    ACTOR = ACTOR

    def __init__(self, data: dict[str, list[dict]], ids: Ids, report: CompanyReport):
        super().__init__(data, ids, report)
        self.config = {r["setting"]: "" if r["value"] is None else r["value"] for r in data[
            "tblconfiguration"]}  # fmt: skip
        self.currencies = {r["id"]: r for r in data["tblcurrencies"]}
        self.timezone = "UTC"
        self.created_company = False

    # -- values

    def day(self, table: str, row: dict, column: str) -> date | None:
        """A DATE column; MySQL's zero date (PyMySQL gives it as text) is no date."""
        value = row[column]
        if value is None or (isinstance(value, str) and value.startswith("0000-00-00")):
            return None
        if isinstance(value, datetime):
            return value.date()
        if not isinstance(value, date):
            raise broken(table, row["id"], column, f"{value!s} is not a date")
        return value

    def moment(self, table: str, row: dict, column: str) -> datetime | None:
        value = row[column]
        if value is None or (isinstance(value, str) and value.startswith("0000-00-00")):
            return None
        if not isinstance(value, datetime):
            if isinstance(value, date):
                value = datetime(value.year, value.month, value.day)
            else:
                raise broken(table, row["id"], column, f"{value!s} is not a date and time")
        return value.replace(tzinfo=ZoneInfo(self.timezone))

    def currency_of(self, table: str, row: dict, column: str = "currency") -> str:
        """The code of the tblcurrencies row a row's `column` names."""
        currency_row = self.currencies.get(row[column])
        if currency_row is None:
            raise broken(
                table,
                row["id"],
                column,
                f"names currency {row[column]}, which tblcurrencies does not hold",
            )
        return self.currency("tblcurrencies", currency_row["id"], "code", currency_row["code"])

    def client_currency(self, client_row: dict) -> str:
        return self.currency_of("tblclients", client_row)

    # -- the company and its settings

    def import_company(self) -> None:
        default = next((r for r in self.data["tblcurrencies"] if _on(r["default"])), None)
        company = find(Company, self.ids, "companies", INSTALL_ID)
        if company is not None:
            self.timezone = company.timezone
        wanted = {
            "name": (self.config.get("CompanyName") or "").strip() or "WHMCS",
            "default_currency": self.currency(
                "tblcurrencies", default["id"], "code", default["code"]
            )
            if default
            else "USD",
        }
        company, self.created_company, changed = self.upsert(
            "tblconfiguration",
            "CompanyName",
            company,
            create=partial(create_company, {**wanted, "timezone": self.timezone}),
            update=update_company,
            wanted=wanted,
        )
        self.done("companies", "companies", INSTALL_ID, company, self.created_company, changed)
        self.company = company
        self.report.company_id = company.pk
        self.report.name = company.name

    def import_groups(self) -> dict[int, ClientGroup]:
        """The company's default group (WHMCS's "no group", groupid 0) and WHMCS's groups."""
        existing = {g.pk: g for g in ClientGroup.objects.filter(company=self.company)}
        default = existing[min(existing)]
        self.ids.remember("tblclientgroups", 0, default.pk)
        groups: dict[int, ClientGroup] = {0: default}
        for row in self.data["tblclientgroups"]:
            rid, t = row["id"], "tblclientgroups"
            try:
                color = clients.clean_color((row["groupcolour"] or "").strip())
            except ValueError as exc:
                raise broken(t, rid, "groupcolour", str(exc)) from None
            if row["discountpercent"] and Decimal(row["discountpercent"]):
                self.report.notes.append(
                    f"tblclientgroups id {rid}: its {row['discountpercent']}% discount is "
                    "not imported"
                )
            wanted = {"name": row["groupname"], "color": color}
            group, created, changed = self.upsert(
                t,
                rid,
                existing.get(self.ids.get(t, rid)),
                create=partial(clients.create_group, self.company, wanted),
                update=clients.update_group,
                wanted=wanted,
                rows={"name": (t, rid, "groupname"), "color": (t, rid, "groupcolour")},
            )
            self.done("client_groups", t, rid, group, created, changed)
            groups[rid] = group
        return groups

    def import_settings(self, groups: dict[int, ClientGroup]) -> None:
        """tblconfiguration's billing settings as the company's, each group's flags as its
        overrides (written only where they differ from the company's): the settings import's
        WHMCS dialect."""
        company = {k: v for k, v in self.config.items() if k in whmcs.READ}
        document: dict[str, Any] = {"company": company, "groups": {}}
        group_source: dict[str, int] = {}
        for row in self.data["tblclientgroups"]:
            name = groups[row["id"]].name
            document["groups"][name] = {
                flag: row[flag] or "" for flag in ("susptermexempt", "separateinvoices")
            }
            group_source[name] = row["id"]
        document["groups"][groups[0].name] = {}  # "no group": inherits everything

        def locate(problem) -> tuple[str, Any, str]:
            parts = problem.field.split(".")
            if parts[0] == "groups" and len(parts) >= 3:
                rid = group_source.get(parts[1], parts[1])
                return "tblclientgroups", rid, ".".join(parts[2:])
            if parts[0] == "company" and len(parts) >= 2:
                return "tblconfiguration", ".".join(parts[1:]), "value"
            return "tblconfiguration", problem.field, "value"  # a cross-key rule: no one row

        plan = transfer.plan_import(self.company, document, dialect="whmcs")
        self.take_settings(plan, locate)
        self.report.mapped_keys |= {
            name
            for rule in whmcs.COMPANY_RULES
            for name in rule.reads
            if rule.reads[0] in company and name in company
        }
        if group_source:
            self.report.mapped_keys |= {"susptermexempt", "separateinvoices"}

    # -- clients and contacts

    def _fields(self, row: dict) -> dict[str, str]:
        return {name: (row[column] or "").strip() for name, column in CONTACT_COLUMNS.items()}

    def import_clients(self, groups: dict[int, ClientGroup]) -> dict[int, Client]:
        contacts: dict[int, list[dict]] = defaultdict(list)
        for c in self.data["tblcontacts"]:
            contacts[c["userid"]].append(c)
        explicit = self.explicit_settings()
        out = {}
        for row in self.data["tblclients"]:
            out[row["id"]] = self._client(row, groups, contacts[row["id"]], explicit)
        return out

    def _client(self, row, groups, contacts, explicit) -> Client:
        rid, t = row["id"], "tblclients"
        group = groups.get(row["groupid"] or 0)
        if group is None:
            raise broken(
                t,
                rid,
                "groupid",
                f"names client group {row['groupid']}, which tblclientgroups does not hold",
            )
        status = CLIENT_STATUSES.get(row["status"])
        if status is None:
            raise broken(t, rid, "status", f"{row['status']!r} is not a WHMCS client status")
        attributes = {
            "status": status,
            "tax_exempt": _on(row["taxexempt"]),
            "tax_id": (row["tax_id"] or "").strip(),
            "default_currency": self.client_currency(row),
        }
        settings: dict[str, Any] = {}
        if _on(row["overideduenotices"]):
            settings["send_payment_notices"] = False
        if _on(row["disableautocc"]):
            settings["autodebit_enabled"] = False
        if _on(row["separateinvoices"]):
            self.report.notes.append(
                f"tblclients id {rid}: separate invoices per service is a group setting in "
                "Groupbill; the client's own flag is not imported"
            )
        fields = self._fields(row)
        names = {v: k for k, v in CONTACT_COLUMNS.items()}
        rows = {name: (t, rid, column) for column, name in names.items()}

        def changes(client: Client) -> dict[str, Any]:
            found = changed_fields(client, attributes)
            if client.group_id != group.pk:
                found["group_id"] = group.pk
            return found | differing(primary_contact(client), fields)

        client, created, changed = self.upsert(
            t,
            rid,
            self.made(t, rid),
            create=partial(clients.create_client, self.company,
                           {"group_id": group.pk, **attributes, **fields}),
            update=clients.update_client,
            changes=changes,
            rows=rows,
        )  # fmt: skip
        wrote = self.write_client_settings(t, rid, client, settings, explicit.get(client.pk, {}))
        self.done("clients", t, rid, client, created, changed or wrote)
        self.report.count("contacts", "created" if created else "unchanged")
        for contact_row in contacts:
            self._contact(client, contact_row)
        return client

    def _contact(self, client: Client, row: dict) -> None:
        t, rid = "tblcontacts", row["id"]
        role = ContactRole.BILLING if _on(row["invoiceemails"]) else ContactRole.OTHER
        fields = self._fields(row)
        rows = {name: (t, rid, column) for name, column in CONTACT_COLUMNS.items()}

        def changes(contact: Contact) -> dict[str, Any]:
            found = differing(contact, fields)
            if contact.role != role:
                found["role"] = role
            return found

        contact, created, changed = self.upsert(
            t,
            rid,
            self.made(t, rid, client),
            create=partial(clients.add_contact, client, {"role": role, **fields}),
            update=clients.update_contact,
            changes=changes,
            rows=rows,
        )
        self.done("contacts", t, rid, contact, created, changed)

    # -- products and pricing

    def import_products(self) -> dict[int, dict[tuple, PackagePrice]]:
        """Products with their prices; returns product id → (unit, count, currency) → price."""
        pricing: dict[int, list[dict]] = defaultdict(list)
        for r in self.data["tblpricing"]:
            if r["type"] == "product":
                pricing[r["relid"]].append(r)
        return {
            row["id"]: self._product(row, pricing[row["id"]]) for row in self.data["tblproducts"]
        }

    def _prices(self, row: dict, pricing: list[dict]) -> list[dict[str, Any]]:
        prices = []
        for p in pricing:
            currency = self.currency_of("tblpricing", p)
            if row["paytype"] == "onetime":
                cycles = [("onetime", 1, "monthly", "msetupfee")]
            elif row["paytype"] == "free":
                prices.append(
                    {"unit": "onetime", "count": 1, "currency": currency, "price": 0,
                     "setup_fee": 0}
                )  # fmt: skip
                continue
            else:
                cycles = list(CYCLES.values())
            for unit, count, column, setup in cycles:
                if Decimal(p[column]) < 0:  # -1.00: the cycle is off
                    continue
                prices.append({
                    "unit": unit,
                    "count": count,
                    "currency": currency,
                    "price": self.minor("tblpricing", p["id"], column, p[column], currency),
                    "setup_fee": max(0, self.minor("tblpricing", p["id"], setup, p[setup],
                                                   currency)),
                })  # fmt: skip
        return prices

    def _product(self, row: dict, pricing: list[dict]) -> dict[tuple, PackagePrice]:
        rid, t = row["id"], "tblproducts"
        if row["paytype"] not in ("free", "onetime", "recurring"):
            raise broken(t, rid, "paytype", f"{row['paytype']!r} is not free, onetime or recurring")
        prices = self._prices(row, pricing)
        wanted = {"name": (row["name"] or "").strip() or f"Product {rid}",
                  "active": not _on(row["retired"])}  # fmt: skip
        package, created, changed = self.upsert_package(t, rid, self.made(t, rid), wanted, prices)
        self.done("packages", t, rid, package, created, changed)
        return {(p.unit, p.count, p.currency): p for p in package.prices.all()}

    # -- services

    def import_services(self, client_rows, clients_by_id, products) -> dict[int, Service]:
        out: dict[int, Service] = {}
        for row in self.data["tblhosting"]:
            client = clients_by_id.get(row["userid"])
            if client is None:
                raise broken(
                    "tblhosting",
                    row["id"],
                    "userid",
                    f"names client {row['userid']}, which tblclients does not hold",
                )
            out[row["id"]] = self._service(row, client, client_rows[row["userid"]], products)
        return out

    def _service(self, row, client, client_row, products) -> Service:
        rid, t = row["id"], "tblhosting"
        prices = products.get(row["packageid"])
        if prices is None:
            raise broken(
                t,
                rid,
                "packageid",
                f"names product {row['packageid']}, which tblproducts does not hold",
            )
        currency = self.client_currency(client_row)
        cycle = row["billingcycle"]
        if cycle in CYCLES:
            unit, count = CYCLES[cycle][:2]
        elif cycle in ("One Time", "Free Account"):
            unit, count = "onetime", 1
        else:
            raise broken(t, rid, "billingcycle", f"{cycle!r} is not a WHMCS billing cycle")
        price = prices.get((unit, count, currency))
        if price is None:
            raise broken(
                t,
                rid,
                "billingcycle",
                f"{cycle} in {currency}: product {row['packageid']} has no such price "
                "in tblpricing",
            )
        status = SERVICE_STATUSES.get(row["domainstatus"])
        if status is None:
            raise broken(
                t, rid, "domainstatus", f"{row['domainstatus']!r} is not a WHMCS service status"
            )
        amount = self.minor(t, rid, "amount", row["amount"], currency)
        if amount != price.price and unit != "onetime":
            self.report.notes.append(
                f"tblhosting id {rid}: recurs at {money.format_plain(amount, currency)} "
                f"{currency} in WHMCS, at its product's price "
                f"({money.format_plain(price.price, currency)} {currency}) here"
            )
        renew = None
        if status != "canceled":
            renew = self.day(t, row, "nextinvoicedate") or self.day(t, row, "nextduedate")
        data = service_actions.ImportedService(
            pricing=price,
            status=status,
            renew_date=renew,
            suspension_reason="suspended in WHMCS" if status == "suspended" else "",
        )
        service, _ = self.import_row(
            "services", t, rid, service_actions.import_service, client, data,
            rows={"pricing": (t, rid, "billingcycle"), "status": (t, rid, "domainstatus")},
        )  # fmt: skip
        if _on(row["overideautosuspend"]):
            self.report.notes.append(
                f"tblhosting id {rid}: WHMCS's per-service suspension override is not "
                "imported (Groupbill's is per client)"
            )
        return service

    # -- invoices and transactions

    def import_invoices(self, client_rows, clients_by_id, services) -> dict[int, Invoice]:
        items: dict[int, list[dict]] = defaultdict(list)
        for r in self.data["tblinvoiceitems"]:
            items[r["invoiceid"]].append(r)
        out = {}
        for row in self.data["tblinvoices"]:
            client = clients_by_id.get(row["userid"])
            if client is None:
                raise broken(
                    "tblinvoices",
                    row["id"],
                    "userid",
                    f"names client {row['userid']}, which tblclients does not hold",
                )
            currency = self.client_currency(client_rows[row["userid"]])
            out[row["id"]] = self._invoice(row, client, currency, items[row["id"]], services)
        return out

    def _invoice(self, row, client, currency, items, services) -> Invoice:
        rid, t = row["id"], "tblinvoices"
        status = INVOICE_STATUSES.get(row["status"])
        if status is None:
            raise broken(t, rid, "status", f"{row['status']!r} is not a WHMCS invoice status")
        number = None
        if status != InvoiceStatus.DRAFT:
            text = str(row["invoicenum"] or "").strip()
            if text and not text.isdigit():
                raise broken(
                    t,
                    rid,
                    "invoicenum",
                    f"{text!r} is not a number; Groupbill numbers invoices 1, 2, 3…",
                )
            number = int(text) if text else rid
        lines = []
        for item in items:
            service = services.get(item["relid"]) if item["type"] == "Hosting" else None
            lines.append(billing_imports.ImportedLine(
                description=(item["description"] or "").strip() or "(no description)",
                unit_amount=self.minor("tblinvoiceitems", item["id"], "amount", item["amount"],
                                       currency),
                service_id=service.pk if service else None,
            ))  # fmt: skip
        subtotal = self.minor(t, rid, "subtotal", row["subtotal"], currency)
        tax = self.minor(t, rid, "tax", row["tax"], currency) + self.minor(
            t, rid, "tax2", row["tax2"], currency
        )
        credit = self.minor(t, rid, "credit", row["credit"], currency)
        total = self.minor(t, rid, "total", row["total"], currency)
        summed = sum(line.unit_amount for line in lines)
        if summed != subtotal:
            raise broken(
                t,
                rid,
                "subtotal",
                f"is {money.format_plain(subtotal, currency)} {currency} but its items "
                f"add up to {money.format_plain(summed, currency)} {currency}",
            )
        if total != subtotal + tax - credit:
            raise broken(
                t,
                rid,
                "total",
                f"is {money.format_plain(total, currency)} {currency}, not subtotal + "
                f"tax + tax2 - credit "
                f"({money.format_plain(subtotal + tax - credit, currency)} {currency})",
            )
        data = billing_imports.ImportedInvoice(
            status=status,
            currency=currency,
            number=number,
            issued_on=self.day(t, row, "date"),
            due_on=self.day(t, row, "duedate"),
            lines=tuple(lines),
            tax_total=tax,
            paid_at=self.moment(t, row, "datepaid") if status == InvoiceStatus.PAID else None,
        )
        columns = {"number": "invoicenum", "issued_on": "date", "date_billed": "date",
                   "lines": "tblinvoiceitems", "qty": "tblinvoiceitems"}  # fmt: skip
        invoice, _ = self.import_row(
            "invoices", t, rid, billing_imports.import_invoice, client, data,
            rows={f: (t, rid, c) for f, c in columns.items()},
        )  # fmt: skip
        return invoice

    def _transaction(self, table, rid, client, data, amounts: dict[int, int]) -> None:
        txn, created = self.import_row(
            "transactions", table, rid, billing_imports.import_transaction, client, data
        )
        self.apply_amounts(table, rid, txn, amounts, created)

    def _account_currency(self, row: dict, client_rows: dict) -> str:
        """A tblaccounts row's currency: its own, or (0) its client's."""
        if not row["currency"]:
            return self.client_currency(client_rows[row["userid"]])
        return self.currency_of("tblaccounts", row)

    def import_transactions(self, client_rows, clients_by_id, invoices) -> None:
        by_source = {r["id"]: r for r in self.data["tblinvoices"]}
        # The client credit WHMCS applied to invoices: a credit applied to each.
        for source_id, invoice in invoices.items():
            row = by_source[source_id]
            client = clients_by_id[row["userid"]]
            credit = self.minor("tblinvoices", source_id, "credit", row["credit"], invoice.currency)
            if credit <= 0:
                continue
            data = billing_imports.ImportedTransaction(
                kind="credit", status="approved", currency=invoice.currency, amount=credit,
                method="credit", reference=f"WHMCS credit on invoice {source_id}",
                created_at=self.moment("tblinvoices", row, "date"),
            )  # fmt: skip
            applied = {invoice.pk: credit} if row["status"] not in ("Cancelled", "Refunded") else {}
            self._transaction("tblinvoices.credit", source_id, client, data, applied)
        # Payments; a refund row (amountout, refundid → the payment) is not a transaction
        # of its own: the payment it refunds is imported net of it (void when refunded in
        # full), so what it paid and the client's balance are WHMCS's.
        payments = {r["id"]: r for r in self.data["tblaccounts"]}
        refunded: dict[int, int] = defaultdict(int)
        refund_rows = []
        for row in self.data["tblaccounts"]:
            rid, t = row["id"], "tblaccounts"
            if row["userid"] not in clients_by_id:
                raise broken(
                    t,
                    rid,
                    "userid",
                    f"names client {row['userid']}, which tblclients does not hold",
                )
            currency = self._account_currency(row, client_rows)
            out = self.minor(t, rid, "amountout", row["amountout"], currency)
            if not out:
                continue
            if self.minor(t, rid, "amountin", row["amountin"], currency):
                raise broken(t, rid, "amountin", "a row both pays and refunds; WHMCS splits them")
            original = payments.get(row["refundid"])
            if original is None or original["userid"] != row["userid"] or original["refundid"]:
                raise broken(
                    t,
                    rid,
                    "refundid",
                    f"names payment {row['refundid']}, not one of this client's in tblaccounts",
                )
            refunded[original["id"]] += out
            refund_rows.append(rid)
        for row in self.data["tblaccounts"]:
            rid, t = row["id"], "tblaccounts"
            if rid in refund_rows:
                continue
            client = clients_by_id[row["userid"]]
            currency = self._account_currency(row, client_rows)
            paid = self.minor(t, rid, "amountin", row["amountin"], currency)
            amount = paid - refunded[rid]
            if amount < 0:
                raise broken(
                    t,
                    rid,
                    "amountin",
                    f"{money.format_plain(paid, currency)} {currency} paid but "
                    f"{money.format_plain(refunded[rid], currency)} {currency} refunded",
                )
            if self.minor(t, rid, "fees", row["fees"], currency):
                self.report.notes.append(f"tblaccounts id {rid}: its gateway fee is not imported")
            note = ""
            if refunded[rid]:
                note = f"{money.format_plain(refunded[rid], currency)} {currency} refunded in WHMCS"
                self.report.notes.append(
                    f"tblaccounts id {rid}: imported net of its refund ({note})"
                    + (", void" if amount == 0 else "")
                )
            data = billing_imports.ImportedTransaction(
                kind="payment", status="approved" if amount else "void", currency=currency,
                amount=amount or paid, method="other", reference=row["transid"] or "",
                created_at=self.moment(t, row, "date"), note=note,
            )  # fmt: skip
            amounts = {}
            if row["invoiceid"] and amount:
                invoice = invoices.get(row["invoiceid"])
                if invoice is None or invoice.client_id != client.pk:
                    raise broken(
                        t,
                        rid,
                        "invoiceid",
                        f"names invoice {row['invoiceid']}, not one of this client's",
                    )
                amounts = {invoice.pk: amount}
            self._transaction(t, rid, client, data, amounts)
        # Clients' credit balances: loose credit.
        for row in self.data["tblclients"]:
            client = clients_by_id[row["id"]]
            currency = self.client_currency(row)
            credit = self.minor("tblclients", row["id"], "credit", row["credit"], currency)
            if credit <= 0:
                continue
            data = billing_imports.ImportedTransaction(
                kind="credit", status="approved", currency=currency, amount=credit,
                method="credit", reference="WHMCS credit balance",
            )  # fmt: skip
            self._transaction("tblclients.credit", row["id"], client, data, {})
        self.settle(invoices, "tblinvoices", "status")
        billing_imports.continue_numbering(self.company.pk)

    def _source_notes(self) -> None:
        addons = len(self.data.get("tblhostingaddons", ()))
        if addons:
            self.report.notes.append(
                f"tblhostingaddons: {addons} row{'s' if addons != 1 else ''}, product addons "
                "are not imported"
            )
        if self.data["tblclients"]:
            self.report.notes.append(
                "tblclients: WHMCS's logins (tblusers) are not imported; staff grant portal "
                "access to the contacts that need it"
            )
        if self.created_company:
            self.report.notes.append(
                "companies: WHMCS keeps dates in the server's time; the company's time zone is "
                "UTC, change it in Groupbill if the server's was another"
            )

    def run(self) -> None:
        self.import_company()
        groups = self.import_groups()
        self.import_settings(groups)
        client_rows = {r["id"]: r for r in self.data["tblclients"]}
        clients_by_id = self.import_clients(groups)
        lock_objects.clients(c.pk for c in clients_by_id.values())
        products = self.import_products()
        services = self.import_services(client_rows, clients_by_id, products)
        invoices = self.import_invoices(client_rows, clients_by_id, services)
        self.import_transactions(client_rows, clients_by_id, invoices)
        self._source_notes()
        self.count_totals(clients_by_id.values())


def run(data: dict[str, list[dict]], *, source: str, commit: bool) -> Report:
    """Import the install as one company, in one transaction (rolled back on a dry run or
    a refused row)."""
    report = Report(source=source, dry_run=not commit, system="WHMCS")
    config = {r["setting"]: r["value"] for r in data["tblconfiguration"]}
    part = CompanyReport(source_id=INSTALL_ID, name=(config.get("CompanyName") or "WHMCS"))
    report.companies.append(part)
    run_company(SYSTEM, part, _Install(data, Ids(SYSTEM), part).run, commit=commit)
    return report


def import_whmcs(dsn: str, *, commit: bool) -> Report:
    """Read the WHMCS database at `dsn` and import it (a dry run unless `commit`)."""
    with Reader(dsn) as reader:
        data = read(reader)
        source = reader.source
    return run(data, source=source, commit=commit)

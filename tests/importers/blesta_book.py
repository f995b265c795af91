"""A Blesta-shaped database for the importer's tests: the subset of Blesta 5.x's tables and
columns the importer reads (../shared/IMPORT.md), and a small book in them.

The book: company 1 "Acme Hosting" (America/New_York, USD and EUR), its settings over a
system setting; three groups: "Standard" (the default, no rows: uses the company's
settings), "Resellers" (a full snapshot, most values repeating the company's) and "VIP"
(a subset, as the API makes them); six clients in USD and EUR with contacts, phone numbers
and client settings; two packages with prices; services active, suspended, cancelled,
pending, scheduled to cancel and an addon; invoices paid, open, partly paid, taxed, void
and a draft; transactions applied fully, partly, not at all, declined and refunded."""

import base64

import pymysql

SCHEMA = """
CREATE TABLE companies (id INT UNSIGNED PRIMARY KEY, `key` VARCHAR(255) NOT NULL DEFAULT '',
  name VARCHAR(64) NOT NULL, hostname VARCHAR(255) NULL);
CREATE TABLE settings (`key` VARCHAR(32) PRIMARY KEY, value TEXT NOT NULL,
  encrypted TINYINT(1) NOT NULL DEFAULT 0, comment TEXT NULL,
  inherit TINYINT(1) NOT NULL DEFAULT 1);
CREATE TABLE company_settings (`key` VARCHAR(32) NOT NULL, company_id INT UNSIGNED NOT NULL,
  value TEXT NOT NULL, encrypted TINYINT(1) NOT NULL DEFAULT 0,
  inherit TINYINT(1) NOT NULL DEFAULT 1, PRIMARY KEY (`key`, company_id));
CREATE TABLE client_groups (id INT UNSIGNED PRIMARY KEY, company_id INT UNSIGNED NOT NULL,
  name VARCHAR(64) NOT NULL, description TEXT NULL, color VARCHAR(6) NOT NULL DEFAULT 'dcdcdc');
CREATE TABLE client_group_settings (`key` VARCHAR(64) NOT NULL,
  client_group_id INT UNSIGNED NOT NULL, value TEXT NOT NULL,
  encrypted TINYINT(1) NOT NULL DEFAULT 0, PRIMARY KEY (`key`, client_group_id));
CREATE TABLE users (id INT UNSIGNED PRIMARY KEY, username VARCHAR(64) NOT NULL);
CREATE TABLE clients (id INT UNSIGNED PRIMARY KEY, id_format VARCHAR(64) NOT NULL,
  id_value INT UNSIGNED NOT NULL, user_id INT UNSIGNED NOT NULL,
  client_group_id INT UNSIGNED NOT NULL,
  status ENUM('active','inactive','fraud') NOT NULL DEFAULT 'active');
CREATE TABLE client_settings (`key` VARCHAR(32) NOT NULL, client_id INT UNSIGNED NOT NULL,
  value TEXT NOT NULL, encrypted TINYINT(1) NOT NULL DEFAULT 0, PRIMARY KEY (`key`, client_id));
CREATE TABLE contacts (id INT UNSIGNED PRIMARY KEY, client_id INT UNSIGNED NOT NULL,
  user_id INT UNSIGNED NULL, contact_type VARCHAR(32) NOT NULL DEFAULT 'primary',
  first_name VARCHAR(64) NOT NULL, last_name VARCHAR(64) NOT NULL, title VARCHAR(64) NULL,
  company VARCHAR(64) NULL, email VARCHAR(255) NOT NULL, address1 VARCHAR(255) NULL,
  address2 VARCHAR(255) NULL, city VARCHAR(255) NULL, state VARCHAR(3) NULL,
  zip VARCHAR(16) NULL, country CHAR(3) NOT NULL DEFAULT 'US');
CREATE TABLE contact_numbers (id INT UNSIGNED PRIMARY KEY, contact_id INT UNSIGNED NOT NULL,
  number VARCHAR(64) NOT NULL, type ENUM('phone','fax') NOT NULL DEFAULT 'phone',
  location ENUM('home','work','mobile') NOT NULL DEFAULT 'home');
CREATE TABLE currencies (code CHAR(3) NOT NULL, company_id INT UNSIGNED NOT NULL,
  format VARCHAR(64) NOT NULL DEFAULT '#,###.##', prefix VARCHAR(10) NULL, suffix VARCHAR(10) NULL,
  exchange_rate DECIMAL(19,4) NOT NULL DEFAULT 1.0000, `precision` TINYINT NOT NULL DEFAULT 2,
  PRIMARY KEY (code, company_id));
CREATE TABLE packages (id INT UNSIGNED PRIMARY KEY, id_format VARCHAR(64) NULL,
  id_value INT UNSIGNED NULL, module_id INT UNSIGNED NULL, qty INT UNSIGNED NULL,
  taxable TINYINT(1) NOT NULL DEFAULT 0,
  status ENUM('active','inactive','restricted') NOT NULL DEFAULT 'active',
  company_id INT UNSIGNED NOT NULL);
CREATE TABLE package_names (package_id INT UNSIGNED NOT NULL, lang VARCHAR(5) NOT NULL,
  name VARCHAR(255) NOT NULL, PRIMARY KEY (package_id, lang));
CREATE TABLE pricings (id INT UNSIGNED PRIMARY KEY, term SMALLINT UNSIGNED NOT NULL DEFAULT 1,
  period ENUM('day','week','month','year','onetime') NOT NULL DEFAULT 'month',
  price DECIMAL(19,4) NOT NULL DEFAULT 0, price_renews DECIMAL(19,4) NULL,
  price_transfer DECIMAL(19,4) NULL, setup_fee DECIMAL(19,4) NOT NULL DEFAULT 0,
  cancel_fee DECIMAL(19,4) NOT NULL DEFAULT 0, currency CHAR(3) NOT NULL DEFAULT 'USD',
  company_id INT UNSIGNED NOT NULL);
CREATE TABLE package_pricing (id INT UNSIGNED PRIMARY KEY, package_id INT UNSIGNED NOT NULL,
  pricing_id INT UNSIGNED NOT NULL);
CREATE TABLE services (id INT UNSIGNED PRIMARY KEY, parent_service_id INT UNSIGNED NULL,
  package_group_id INT UNSIGNED NULL, id_format VARCHAR(64) NULL, id_value INT UNSIGNED NULL,
  pricing_id INT UNSIGNED NOT NULL, client_id INT UNSIGNED NOT NULL,
  module_row_id INT UNSIGNED NULL, coupon_id INT UNSIGNED NULL,
  qty INT UNSIGNED NOT NULL DEFAULT 1, override_price DECIMAL(19,4) NULL,
  override_currency CHAR(3) NULL,
  status ENUM('active','canceled','pending','suspended','in_review') NOT NULL DEFAULT 'pending',
  suspension_reason TEXT NULL, date_added DATETIME NOT NULL, date_renews DATETIME NULL,
  date_last_renewed DATETIME NULL, date_suspended DATETIME NULL, date_canceled DATETIME NULL);
CREATE TABLE invoices (id INT UNSIGNED PRIMARY KEY, id_format VARCHAR(64) NOT NULL,
  id_value INT UNSIGNED NOT NULL, client_id INT UNSIGNED NOT NULL, date_billed DATETIME NOT NULL,
  date_due DATETIME NOT NULL, date_closed DATETIME NULL, date_autodebit DATETIME NULL,
  status ENUM('active','proforma','draft','void') NOT NULL DEFAULT 'active',
  subtotal DECIMAL(19,4) NOT NULL DEFAULT 0, total DECIMAL(19,4) NOT NULL DEFAULT 0,
  paid DECIMAL(19,4) NOT NULL DEFAULT 0, previous_due DECIMAL(19,4) NOT NULL DEFAULT 0,
  currency CHAR(3) NOT NULL DEFAULT 'USD', note_public TEXT NULL, note_private TEXT NULL);
CREATE TABLE invoice_lines (id INT UNSIGNED PRIMARY KEY, invoice_id INT UNSIGNED NOT NULL,
  service_id INT UNSIGNED NULL, description TEXT NOT NULL, qty DECIMAL(12,4) NOT NULL DEFAULT 1,
  amount DECIMAL(19,4) NOT NULL DEFAULT 0, `order` SMALLINT UNSIGNED NOT NULL DEFAULT 0);
CREATE TABLE transactions (id INT UNSIGNED PRIMARY KEY, client_id INT UNSIGNED NOT NULL,
  amount DECIMAL(19,4) NOT NULL DEFAULT 0, currency CHAR(3) NOT NULL DEFAULT 'USD',
  type ENUM('cc','ach','other') NOT NULL DEFAULT 'other',
  transaction_type_id INT UNSIGNED NULL, account_id INT UNSIGNED NULL,
  gateway_id INT UNSIGNED NULL, reference_id VARCHAR(128) NULL,
  transaction_id VARCHAR(128) NULL, parent_transaction_id VARCHAR(128) NULL,
  status ENUM('approved','declined','void','error','pending','refunded','returned')
    NOT NULL DEFAULT 'approved',
  date_added DATETIME NOT NULL);
CREATE TABLE transaction_applied (transaction_id INT UNSIGNED NOT NULL,
  invoice_id INT UNSIGNED NOT NULL, amount DECIMAL(19,4) NOT NULL DEFAULT 0,
  date DATETIME NOT NULL, PRIMARY KEY (transaction_id, invoice_id));
"""


def php_list(*members: str) -> str:
    """A list as Blesta stores it: base64 of a PHP-serialized array."""
    body = "".join(f'i:{i};s:{len(m)}:"{m}";' for i, m in enumerate(members))
    return base64.b64encode(f"a:{len(members)}:{{{body}}}".encode()).decode()


SYSTEM_SETTINGS = [
    # (key, value, encrypted, inherit)
    ("inv_group_services", "true", 0, 1),
    ("mail_delivery", "php", 0, 1),
    ("notice_pending_autodebit", "2", 0, 1),
]
COMPANY_SETTINGS = {
    "timezone": "America/New_York",
    "default_currency": "USD",
    "inv_days_before_renewal": "10",
    "autodebit": "true",
    "autodebit_days_before_due": "2",
    "suspend_services_days_after_due": "5",
    "notice1": "-3",
    "notice2": "3",
    "notice3": "disabled",
    "delivery_methods": php_list("email", "paper", "email", "interfax"),
    "clients_cancel_services": "false",
    "late_fees": "YTowOnt9",
    "inv_format": "{num}",
}
ENCRYPTED_COMPANY_SETTINGS = {"smtp_password": "ZW5jcnlwdGVk"}
# Resellers: Blesta's full snapshot of the whitelisted keys, most equal to the company's.
RESELLER_SETTINGS = {
    "inv_days_before_renewal": "14",
    "autodebit": "false",
    "autodebit_days_before_due": "2",
    "suspend_services_days_after_due": "5",
    "notice1": "-3",
    "notice2": "3",
    "notice3": "disabled",
    "delivery_methods": php_list("email", "paper"),
    "clients_cancel_services": "true",
    "inv_group_services": "true",
    "notice_pending_autodebit": "2",
}
# VIP: a subset (made through the API).
VIP_SETTINGS = {"suspend_services_days_after_due": "never", "notice1": "-7"}

GROUPS = [
    (1, 1, "Standard", "Everyone else", "dcdcdc", {}),
    (2, 1, "Resellers", "Sell on our platform", "1e88e5", RESELLER_SETTINGS),
    (3, 1, "VIP", None, "ffaa00", VIP_SETTINGS),
]
# id, group, status, currency, first, last, email, country, extra client settings
CLIENTS = [
    (1, 1, "active", "USD", "Ada", "Lovelace", "ada@example.com", "US", {}),
    (2, 1, "active", "EUR", "Bert", "Becker", "bert@example.de", "DE", {}),
    (3, 2, "active", "USD", "Cleo", "Reseller", "cleo@example.com", "US", {"autodebit": "false"}),
    (4, 2, "inactive", "USD", "Dan", "Gone", "dan@example.com", "US", {}),
    (5, 3, "active", "EUR", "Eva", "Vip", "eva@example.fr", "FR", {"inv_method": "paper"}),
    (6, 3, "fraud", "USD", "Finn", "Fraud", "finn@example.com", "US", {"tax_exempt": "true"}),
]
CONTACTS = [
    # id, client, type, first, last, email
    (1, 1, "primary", "Ada", "Lovelace", "ada@example.com"),
    (2, 2, "primary", "Bert", "Becker", "bert@example.de"),
    (3, 3, "primary", "Cleo", "Reseller", "cleo@example.com"),
    (4, 4, "primary", "Dan", "Gone", "dan@example.com"),
    (5, 5, "primary", "Eva", "Vip", "eva@example.fr"),
    (6, 6, "primary", "Finn", "Fraud", "finn@example.com"),
    (7, 1, "billing", "Bill", "Payer", "billing@example.com"),
    (8, 3, "other", "Otto", "Tech", "tech@example.com"),
]
PRICINGS = [
    # id, term, period, price, price_renews, setup_fee, currency
    (1, 1, "month", "10.0000", None, "0.0000", "USD"),
    (2, 1, "month", "9.0000", None, "0.0000", "EUR"),
    (3, 1, "year", "100.0000", "100.0000", "5.0000", "USD"),
    (4, 1, "month", "2.0000", None, "0.0000", "USD"),
    (5, 1, "month", "2.0000", None, "0.0000", "EUR"),
]
PACKAGES = [(1, "Shared Hosting", [1, 2, 3]), (2, "Backup Add-on", [4, 5])]
SERVICES = [
    # id, parent, package_pricing id, client, status, added, renews, suspended, canceled
    # Blesta moves date_renews on when it makes the renewal invoice: December is invoiced.
    (1, None, 1, 1, "active", "2026-01-01 05:00:00", "2027-01-01 05:00:00", None, None),
    (2, 1, 4, 1, "active", "2026-01-01 05:00:00", "2027-01-01 05:00:00", None, None),
    (3, None, 2, 2, "active", "2026-02-10 05:00:00", "2027-01-10 05:00:00", None, None),
    (4, None, 3, 3, "suspended", "2025-03-01 05:00:00", "2027-03-01 05:00:00",
     "2026-11-20 14:00:00", None),
    (5, None, 1, 4, "canceled", "2025-05-01 04:00:00", "2026-06-01 04:00:00", None,
     "2026-05-15 16:30:00"),
    (6, None, 2, 5, "active", "2026-01-15 05:00:00", "2026-12-15 05:00:00", None,
     "2027-01-15 05:00:00"),
    (7, None, 1, 6, "pending", "2026-11-27 22:00:00", "2026-11-27 22:00:00", None, None),
]  # fmt: skip
INVOICES = [
    # id, number, client, billed, due, closed, status, subtotal, total, paid, currency
    (1, 1001, 1, "2026-10-25 04:00:00", "2026-11-01 04:00:00", "2026-10-28 12:00:00",
     "active", "12.0000", "12.0000", "12.0000", "USD"),
    (2, 1002, 1, "2026-11-21 05:00:00", "2026-12-01 05:00:00", None,
     "active", "12.0000", "12.0000", "5.0000", "USD"),
    (3, 1003, 2, "2026-11-30 05:00:00", "2026-12-10 05:00:00", None,
     "active", "9.0000", "9.0000", "0.0000", "EUR"),
    (4, 1004, 3, "2026-02-19 05:00:00", "2026-03-01 05:00:00", None,
     "void", "105.0000", "105.0000", "0.0000", "USD"),
    (5, 1005, 5, "2026-11-05 05:00:00", "2026-11-15 05:00:00", "2026-11-06 10:00:00",
     "active", "9.0000", "9.0000", "9.0000", "EUR"),
    (6, 1006, 3, "2026-11-01 04:00:00", "2026-11-10 05:00:00", None,
     "active", "100.0000", "110.0000", "0.0000", "USD"),
    (7, 1, 2, "2026-11-25 05:00:00", "2026-12-05 05:00:00", None,
     "draft", "9.0000", "9.0000", "0.0000", "EUR"),
]  # fmt: skip
LINES = [
    # id, invoice, service, description, qty, amount (unit)
    (1, 1, 1, "Shared Hosting (11/01/2026 - 11/30/2026)", "1.0000", "10.0000"),
    (2, 1, 2, "Backup Add-on (11/01/2026 - 11/30/2026)", "1.0000", "2.0000"),
    (3, 2, 1, "Shared Hosting (12/01/2026 - 12/31/2026)", "1.0000", "10.0000"),
    (4, 2, 2, "Backup Add-on (12/01/2026 - 12/31/2026)", "1.0000", "2.0000"),
    (5, 3, 3, "Shared Hosting (12/10/2026 - 01/09/2027)", "1.0000", "9.0000"),
    (6, 4, 4, "Shared Hosting (03/01/2026 - 02/28/2027)", "1.0000", "100.0000"),
    (7, 4, 4, "Setup fee", "1.0000", "5.0000"),
    (8, 5, 6, "Shared Hosting (11/15/2026 - 12/14/2026)", "1.0000", "9.0000"),
    (9, 6, None, "Consulting hours", "4.0000", "25.0000"),
    (10, 7, None, "Extra IP address", "1.0000", "9.0000"),
]
TRANSACTIONS = [
    # id, client, amount, currency, type, type id, reference, status, added
    (1, 1, "12.0000", "USD", "cc", None, "ch_001", "approved", "2026-10-28 12:00:00"),
    (2, 1, "5.0000", "USD", "other", 2, "check 4411", "approved", "2026-11-22 15:00:00"),
    (3, 1, "7.5000", "USD", "other", 1, "", "approved", "2026-11-23 15:00:00"),
    (4, 5, "20.0000", "EUR", "ach", None, "sepa-77", "approved", "2026-11-06 10:00:00"),
    (5, 3, "50.0000", "USD", "cc", None, "ch_002", "declined", "2026-11-10 06:00:00"),
    (6, 2, "3.0000", "EUR", "cc", None, "ch_003", "refunded", "2026-11-02 09:00:00"),
    (7, 6, "4.0000", "USD", "other", 4, "", "approved", "2026-11-24 09:00:00"),
]
APPLIED = [(1, 1, "12.0000"), (2, 2, "5.0000"), (4, 5, "9.0000")]


def rows() -> dict[str, list[tuple]]:
    """Every table's rows, as INSERT statements take them."""
    client_settings = []
    for cid, _group, _status, currency, *_rest, extra in CLIENTS:
        base = {
            "username_type": "email",
            "tax_exempt": "false",
            "tax_id": "",
            "default_currency": currency,
            "language": "en_us",
            "receive_email_marketing": "true",
            "inv_address_to": str(cid),
        }
        client_settings += [(k, cid, v, 0) for k, v in (base | extra).items()]
    return {
        "companies": [(1, "Acme Hosting")],
        "settings": SYSTEM_SETTINGS,
        "company_settings": [(k, 1, v, 0) for k, v in COMPANY_SETTINGS.items()]
        + [(k, 1, v, 1) for k, v in ENCRYPTED_COMPANY_SETTINGS.items()],
        "client_groups": [g[:5] for g in GROUPS],
        "client_group_settings": [(k, g[0], v, 0) for g in GROUPS for k, v in g[5].items()],
        "users": [(c[0], c[6]) for c in CLIENTS],
        "clients": [(c[0], "{num}", 1500 + c[0], c[0], c[1], c[2]) for c in CLIENTS],
        "client_settings": client_settings,
        "contacts": [
            (
                cid,
                client,
                kind,
                first,
                last,
                email,
                "1 Main St",
                "Springfield",
                next(c[7] for c in CLIENTS if c[0] == client),
            )
            for cid, client, kind, first, last, email in CONTACTS
        ],
        "contact_numbers": [
            (1, 1, "+1 555 0100", "phone"),
            (2, 1, "+1 555 0199", "fax"),
            (3, 5, "+33 1 23 45 67 89", "phone"),
        ],
        "currencies": [("USD", 1, 2), ("EUR", 1, 2)],
        "packages": [(p[0], 1, "active") for p in PACKAGES],
        "package_names": [(p[0], "en_us", p[1]) for p in PACKAGES],
        "pricings": [(*p, 1) for p in PRICINGS],
        "package_pricing": [(pid, pkg, pid) for pkg, _n, prices in PACKAGES for pid in prices],
        "services": [(*s[:4], 1, s[4], s[5], s[6], s[7], s[8]) for s in SERVICES],
        "invoices": [
            (i[0], "DRAFT-{num}" if i[6] == "draft" else "{num}", *i[1:]) for i in INVOICES
        ],
        "invoice_lines": LINES,
        "transactions": TRANSACTIONS,
        "transaction_applied": [(*a, "2026-11-01 00:00:00") for a in APPLIED],
    }


COLUMNS = {
    "companies": "id, name",
    "settings": "`key`, value, encrypted, inherit",
    "company_settings": "`key`, company_id, value, encrypted",
    "client_groups": "id, company_id, name, description, color",
    "client_group_settings": "`key`, client_group_id, value, encrypted",
    "users": "id, username",
    "clients": "id, id_format, id_value, user_id, client_group_id, status",
    "client_settings": "`key`, client_id, value, encrypted",
    "contacts": "id, client_id, contact_type, first_name, last_name, email, address1, city, "
    "country",
    "contact_numbers": "id, contact_id, number, type",
    "currencies": "code, company_id, `precision`",
    "packages": "id, company_id, status",
    "package_names": "package_id, lang, name",
    "pricings": "id, term, period, price, price_renews, setup_fee, currency, company_id",
    "package_pricing": "id, package_id, pricing_id",
    "services": "id, parent_service_id, pricing_id, client_id, qty, status, date_added, "
    "date_renews, date_suspended, date_canceled",
    "invoices": "id, id_format, id_value, client_id, date_billed, date_due, date_closed, status, "
    "subtotal, total, paid, currency",
    "invoice_lines": "id, invoice_id, service_id, description, qty, amount",
    "transactions": "id, client_id, amount, currency, type, transaction_type_id, "
    "transaction_id, status, date_added",
    "transaction_applied": "transaction_id, invoice_id, amount, date",
}


def load(connection: pymysql.connections.Connection) -> None:
    """Create the tables and write the book into the connection's database."""
    with connection.cursor() as cursor:
        for statement in SCHEMA.split(";"):
            if statement.strip():
                cursor.execute(statement)
        for table, values in rows().items():
            columns = COLUMNS[table]
            marks = ", ".join(["%s"] * (columns.count(",") + 1))
            cursor.executemany(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", values)
    connection.commit()

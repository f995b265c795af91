"""A WHMCS-shaped database for the importer's tests: the subset of WHMCS 8.x's tables and
columns the importer reads (../shared/IMPORT.md), with WHMCS's encodings ('on'/'' flags,
decimal(16,2) money, -1.00 for a cycle that is off, DATE columns, '' invoicenum), and a
small book in them.

The book: "Northwind Hosting", USD (default) and EUR; billing settings in tblconfiguration
(invoices 10 days ahead, suspension after 5 days, reminders 3 days before and 2 and 6 after
the due date, credit not applied automatically, a third overdue reminder Groupbill has no
slot for) and configuration that is not billing (the company's email); groups "Resellers"
(separate invoices), "No Suspend" (exempt from suspension) and "Plain" (no flags); four
clients (one without a group, one in EUR, one with due notices and auto-CC off and credit
left); a billing contact and another; two products (monthly and annual, and a one-time
setup); services active, suspended, cancelled and pending; invoices paid, open, partly paid,
paid partly by credit, taxed, cancelled and a draft; payments in full and in part."""

import pymysql

SCHEMA = """
CREATE TABLE tblconfiguration (setting VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL,
  created_at TIMESTAMP NULL, updated_at TIMESTAMP NULL);
CREATE TABLE tblcurrencies (id INT PRIMARY KEY, code TEXT NOT NULL, prefix TEXT NOT NULL,
  suffix TEXT NOT NULL, format INT NOT NULL DEFAULT 1, rate DECIMAL(10,5) NOT NULL DEFAULT 1,
  `default` INT NOT NULL DEFAULT 0);
CREATE TABLE tblclientgroups (id INT PRIMARY KEY, groupname TEXT NOT NULL,
  groupcolour TEXT NULL, discountpercent DECIMAL(10,2) NULL DEFAULT 0,
  susptermexempt TEXT NULL, separateinvoices TEXT NOT NULL);
CREATE TABLE tblclients (id INT PRIMARY KEY, uuid VARCHAR(255) NOT NULL DEFAULT '',
  firstname TEXT NOT NULL, lastname TEXT NOT NULL, companyname TEXT NOT NULL,
  email TEXT NOT NULL, address1 TEXT NOT NULL, address2 TEXT NOT NULL, city TEXT NOT NULL,
  state TEXT NOT NULL, postcode TEXT NOT NULL, country TEXT NOT NULL,
  phonenumber TEXT NOT NULL, tax_id VARCHAR(128) NOT NULL DEFAULT '',
  currency INT NOT NULL, credit DECIMAL(16,2) NOT NULL DEFAULT 0,
  taxexempt TINYINT(1) NOT NULL DEFAULT 0, overideduenotices TINYINT(1) NOT NULL DEFAULT 0,
  separateinvoices TINYINT(1) NOT NULL DEFAULT 0, disableautocc TINYINT(1) NOT NULL DEFAULT 0,
  groupid INT NOT NULL DEFAULT 0, status ENUM('Active','Inactive','Closed') NOT NULL
  DEFAULT 'Active', billingcid INT NOT NULL DEFAULT 0);
CREATE TABLE tblcontacts (id INT PRIMARY KEY, userid INT NOT NULL, firstname TEXT NOT NULL,
  lastname TEXT NOT NULL, companyname TEXT NOT NULL, email TEXT NOT NULL,
  address1 TEXT NOT NULL, address2 TEXT NOT NULL, city TEXT NOT NULL, state TEXT NOT NULL,
  postcode TEXT NOT NULL, country TEXT NOT NULL, phonenumber TEXT NOT NULL,
  invoiceemails INT NOT NULL DEFAULT 0);
CREATE TABLE tblproducts (id INT PRIMARY KEY, type TEXT NOT NULL, gid INT NOT NULL,
  name TEXT NOT NULL, paytype TEXT NOT NULL, tax INT NOT NULL DEFAULT 0,
  retired TINYINT(1) NOT NULL DEFAULT 0);
CREATE TABLE tblpricing (id INT PRIMARY KEY, type ENUM('product','addon','configoptions',
  'domainregister','domaintransfer','domainrenew','domainaddons') NOT NULL,
  currency INT NOT NULL, relid INT NOT NULL,
  msetupfee DECIMAL(16,2) NOT NULL, qsetupfee DECIMAL(16,2) NOT NULL,
  ssetupfee DECIMAL(16,2) NOT NULL, asetupfee DECIMAL(16,2) NOT NULL,
  bsetupfee DECIMAL(16,2) NOT NULL, tsetupfee DECIMAL(16,2) NOT NULL,
  monthly DECIMAL(16,2) NOT NULL, quarterly DECIMAL(16,2) NOT NULL,
  semiannually DECIMAL(16,2) NOT NULL, annually DECIMAL(16,2) NOT NULL,
  biennially DECIMAL(16,2) NOT NULL, triennially DECIMAL(16,2) NOT NULL);
CREATE TABLE tblhosting (id INT PRIMARY KEY, userid INT NOT NULL, orderid INT NOT NULL
  DEFAULT 0, packageid INT NOT NULL, regdate DATE NOT NULL, domain TEXT NOT NULL,
  firstpaymentamount DECIMAL(16,2) NOT NULL DEFAULT 0, amount DECIMAL(16,2) NOT NULL,
  billingcycle TEXT NOT NULL, nextduedate DATE NULL, nextinvoicedate DATE NOT NULL,
  domainstatus ENUM('Pending','Active','Suspended','Terminated','Cancelled','Fraud',
  'Completed') NOT NULL DEFAULT 'Pending', overideautosuspend TINYINT(1) NOT NULL DEFAULT 0,
  overidesuspenduntil DATE NULL);
CREATE TABLE tblhostingaddons (id INT PRIMARY KEY, hostingid INT NOT NULL,
  addonid INT NOT NULL);
CREATE TABLE tblinvoices (id INT PRIMARY KEY, userid INT NOT NULL, invoicenum TEXT NOT NULL,
  date DATE NULL, duedate DATE NULL, datepaid DATETIME NOT NULL,
  subtotal DECIMAL(16,2) NOT NULL, credit DECIMAL(16,2) NOT NULL, tax DECIMAL(16,2) NOT NULL,
  tax2 DECIMAL(16,2) NOT NULL, total DECIMAL(16,2) NOT NULL DEFAULT 0,
  taxrate DECIMAL(10,3) NOT NULL DEFAULT 0, status TEXT NOT NULL,
  paymentmethod TEXT NOT NULL DEFAULT '');
CREATE TABLE tblinvoiceitems (id INT PRIMARY KEY, invoiceid INT NOT NULL, userid INT NOT NULL,
  type VARCHAR(30) NOT NULL, relid INT NOT NULL, description TEXT NOT NULL,
  amount DECIMAL(16,2) NOT NULL, taxed INT NOT NULL DEFAULT 0, duedate DATE NULL);
CREATE TABLE tblaccounts (id INT PRIMARY KEY, userid INT NOT NULL, currency INT NOT NULL,
  gateway TEXT NOT NULL, date DATETIME NULL, description TEXT NOT NULL,
  amountin DECIMAL(16,2) NOT NULL DEFAULT 0, fees DECIMAL(16,2) NOT NULL DEFAULT 0,
  amountout DECIMAL(16,2) NOT NULL DEFAULT 0, rate DECIMAL(16,5) NOT NULL DEFAULT 1,
  transid TEXT NOT NULL, invoiceid INT NOT NULL DEFAULT 0, refundid INT NOT NULL DEFAULT 0)
"""

ZERO = "0000-00-00 00:00:00"
CONFIGURATION = {
    "CompanyName": "Northwind Hosting",
    "Email": "billing@northwind.example",  # not a billing setting: not read
    "CreateInvoiceDaysBefore": "10",
    "CreateInvoiceDaysBeforeMonthly": "",
    "CCProcessDaysBefore": "2",
    "CCAttemptOnlyOnce": "",
    "AutoSuspension": "on",
    "AutoSuspensionDays": "5",
    "SendReminder": "on",
    "SendInvoiceReminderDays": "3",
    "SendFirstOverdueInvoiceReminder": "2",
    "SendSecondOverdueInvoiceReminder": "6",
    "SendThirdOverdueInvoiceReminder": "9",
    "NoAutoApplyCredit": "on",
    "CancelInvoiceOnCancellation": "on",
    "CreditOnDowngrade": "",
    "ShowCancellationButton": "on",
}
CURRENCIES = [(1, "USD", "$", " USD", 1), (2, "EUR", "€", " EUR", 0)]
# id, name, colour, discount, susptermexempt, separateinvoices
GROUPS = [
    (1, "Resellers", "#1e88e5", "0.00", "", "on"),
    (2, "No Suspend", "#43a047", "0.00", "on", ""),
    (3, "Plain", "", "0.00", "", ""),
]
# id, first, last, company, email, country, currency, credit, taxexempt,
# overideduenotices, disableautocc, groupid, status
CLIENTS = [
    (1, "Ada", "Lovelace", "Analytical Ltd", "ada@example.com", "GB", 1, "0.00", 0, 0, 0, 1,
     "Active"),
    (2, "Grace", "Hopper", "", "grace@example.com", "US", 1, "15.50", 0, 1, 1, 2, "Active"),
    (3, "Linus", "Torvalds", "", "linus@example.com", "FI", 2, "0.00", 1, 0, 0, 0, "Active"),
    (4, "Barbara", "Liskov", "", "barbara@example.com", "US", 1, "0.00", 0, 0, 0, 3,
     "Inactive"),
]  # fmt: skip
# id, userid, first, last, email, invoiceemails
CONTACTS = [
    (1, 1, "Charles", "Babbage", "billing@analytical.example", 1),
    (2, 1, "Mary", "Somerville", "mary@analytical.example", 0),
]
# id, gid, name, paytype, retired
PRODUCTS = [(1, 1, "Web Hosting", "recurring", 0), (2, 1, "Setup Service", "onetime", 0)]
OFF = "-1.00"
# id, currency, relid, setup fees (m q s a b t), prices (m q s a b t)
PRICING = [
    (1, 1, 1, ("0.00",) * 6, ("10.00", OFF, OFF, "100.00", OFF, OFF)),
    (2, 2, 1, ("0.00",) * 6, ("9.00", OFF, OFF, "90.00", OFF, OFF)),
    (3, 1, 2, ("5.00", "0.00", "0.00", "0.00", "0.00", "0.00"), ("25.00",) + (OFF,) * 5),
]
# id, userid, packageid, amount, billingcycle, nextduedate, nextinvoicedate, status
SERVICES = [
    (1, 1, 1, "10.00", "Monthly", "2026-12-01", "2026-12-01", "Active"),
    (2, 2, 1, "100.00", "Annually", "2026-10-15", "2027-10-15", "Suspended"),
    (3, 3, 1, "9.00", "Monthly", "2026-12-10", "2026-12-10", "Active"),
    (4, 4, 1, "10.00", "Monthly", "2026-09-01", "2026-09-01", "Cancelled"),
    (5, 1, 2, "25.00", "One Time", "2026-11-20", "2026-11-20", "Pending"),
]
# id, userid, invoicenum, date, duedate, datepaid, subtotal, credit, tax, tax2, total, status
INVOICES = [
    (1, 1, "", "2026-10-22", "2026-11-01", "2026-10-25 09:30:00", "10.00", "0.00", "2.00",
     "0.00", "12.00", "Paid"),
    (2, 1, "", "2026-11-21", "2026-12-01", ZERO, "10.00", "0.00", "2.00", "0.00", "12.00",
     "Unpaid"),
    (3, 2, "", "2026-10-05", "2026-10-15", ZERO, "100.00", "20.00", "0.00", "0.00", "80.00",
     "Unpaid"),
    (4, 3, "", "2026-11-30", "2026-12-10", ZERO, "9.00", "0.00", "0.00", "0.00", "9.00",
     "Unpaid"),
    (5, 4, "", "2026-08-22", "2026-09-01", ZERO, "10.00", "0.00", "0.00", "0.00", "10.00",
     "Cancelled"),
    (6, 1, "", "2026-11-10", "2026-11-20", ZERO, "25.00", "0.00", "0.00", "0.00", "25.00",
     "Draft"),
    (7, 3, "", "2026-10-31", "2026-11-10", "2026-11-02 14:00:00", "9.00", "4.00", "0.00",
     "0.00", "5.00", "Paid"),
]  # fmt: skip
# id, invoiceid, userid, type, relid, description, amount
ITEMS = [
    (1, 1, 1, "Hosting", 1, "Web Hosting (01/11/2026 - 30/11/2026)", "10.00"),
    (2, 2, 1, "Hosting", 1, "Web Hosting (01/12/2026 - 31/12/2026)", "10.00"),
    (3, 3, 2, "Hosting", 2, "Web Hosting (15/10/2026 - 14/10/2027)", "100.00"),
    (4, 4, 3, "Hosting", 3, "Web Hosting (10/12/2026 - 09/01/2027)", "9.00"),
    (5, 5, 4, "Hosting", 4, "Web Hosting (01/09/2026 - 30/09/2026)", "10.00"),
    (6, 6, 1, "Hosting", 5, "Setup Service", "20.00"),
    (7, 6, 1, "Item", 0, "Setup fee", "5.00"),
    (8, 7, 3, "Hosting", 3, "Web Hosting (10/11/2026 - 09/12/2026)", "9.00"),
]
# id, userid, currency, date, amountin, fees, amountout, transid, invoiceid
PAYMENTS = [
    (1, 1, 0, "2026-10-25 09:30:00", "12.00", "0.65", "0.00", "ch_1001", 1),
    (2, 2, 0, "2026-10-20 08:00:00", "30.00", "0.00", "0.00", "ch_1002", 3),
    (3, 3, 2, "2026-11-02 14:00:00", "5.00", "0.00", "0.00", "ch_1003", 7),
]

COLUMNS = {
    "tblconfiguration": "setting, value",
    "tblcurrencies": "id, code, prefix, suffix, `default`",
    "tblclientgroups": "id, groupname, groupcolour, discountpercent, susptermexempt, "
    "separateinvoices",
    "tblclients": "id, firstname, lastname, companyname, email, address1, address2, city, "
    "state, postcode, country, phonenumber, currency, credit, taxexempt, overideduenotices, "
    "disableautocc, groupid, status",
    "tblcontacts": "id, userid, firstname, lastname, companyname, email, address1, address2, "
    "city, state, postcode, country, phonenumber, invoiceemails",
    "tblproducts": "id, type, gid, name, paytype, retired",
    "tblpricing": "id, type, currency, relid, msetupfee, qsetupfee, ssetupfee, asetupfee, "
    "bsetupfee, tsetupfee, monthly, quarterly, semiannually, annually, biennially, triennially",
    "tblhosting": "id, userid, packageid, regdate, domain, amount, billingcycle, nextduedate, "
    "nextinvoicedate, domainstatus",
    "tblinvoices": "id, userid, invoicenum, date, duedate, datepaid, subtotal, credit, tax, "
    "tax2, total, status",
    "tblinvoiceitems": "id, invoiceid, userid, type, relid, description, amount",
    "tblaccounts": "id, userid, currency, gateway, date, description, amountin, fees, "
    "amountout, transid, invoiceid",
}


def rows() -> dict[str, list[tuple]]:
    return {
        "tblconfiguration": list(CONFIGURATION.items()),
        "tblcurrencies": CURRENCIES,
        "tblclientgroups": GROUPS,
        "tblclients": [
            (
                i,
                first,
                last,
                company,
                email,
                "1 Main St",
                "",
                "Springfield",
                "Some State",
                "12345",
                country,
                "+1.5550100",
                currency,
                credit,
                exempt,
                notices,
                autocc,
                group,
                status,
            )
            for (
                i,
                first,
                last,
                company,
                email,
                country,
                currency,
                credit,
                exempt,
                notices,
                autocc,
                group,
                status,
            ) in CLIENTS
        ],
        "tblcontacts": [
            (i, user, first, last, "", email, "", "", "", "", "", "", "", invoices)
            for i, user, first, last, email, invoices in CONTACTS
        ],
        "tblproducts": [(i, "hostingaccount", g, n, p, r) for i, g, n, p, r in PRODUCTS],
        "tblpricing": [(i, "product", c, r, *setup, *prices) for i, c, r, setup, prices in PRICING],
        "tblhosting": [
            (i, u, p, "2026-01-01", f"site{i}.example", a, c, nd, ni, s)
            for i, u, p, a, c, nd, ni, s in SERVICES
        ],
        "tblinvoices": INVOICES,
        "tblinvoiceitems": ITEMS,
        "tblaccounts": [
            (i, u, c, "stripe", d, "Invoice Payment", a, f, o, t, inv)
            for i, u, c, d, a, f, o, t, inv in PAYMENTS
        ],
    }


def load(connection: pymysql.connections.Connection) -> None:
    """Create the tables and write the book into the connection's database."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION sql_mode = ''")  # WHMCS's zero dates
        for statement in SCHEMA.split(";"):
            if statement.strip():
                cursor.execute(statement)
        for table, values in rows().items():
            columns = COLUMNS[table]
            marks = ", ".join(["%s"] * (columns.count(",") + 1))
            cursor.executemany(f"INSERT INTO `{table}` ({columns}) VALUES ({marks})", values)
    connection.commit()

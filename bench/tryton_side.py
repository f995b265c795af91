#!/usr/bin/env python3
"""Peer benchmark, Tryton's side: Tryton 8.2 `sale_subscription` invoice generation on
SQLite. `python -m bench.peer_tryton` runs this file with the interpreter of the
separate venv `make bench-peer` creates (trytond 8.2, trytond-sale-subscription 8.2,
proteus 8.2); it is never imported by Groupbill:

    bench-peer/venv/bin/python bench/tryton_side.py 100 500 900 --json

For each N it:
  * builds (once per run, untimed) a template SQLite database with
    `sale_subscription` activated (via `trytond-admin`), a company (USD),
    the minimal English account chart, a monthly recurrence rule set and a
    service product "monthly" subscription service;
  * copies that template to a fresh database, creates N customers and N
    running subscriptions (one line each, monthly consumption, monthly
    invoicing, start 2024-01-01)  -- untimed;
  * times one billing period (date 2024-01-01), each step in its own
    committed transaction, exactly what the two wizards do:
      1. sale.subscription.line.generate_consumption(date)
         (= wizard 'sale.subscription.line.consumption.create')
      2. sale.subscription.generate_invoice(date)
         (= wizard 'sale.subscription.create_invoice')
    and prints N, invoices created, seconds and ms/invoice.

`--via proteus` runs the two steps through the proteus Wizard client instead
of calling the model methods directly (adds the client/wizard overhead).
"""

import argparse
import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

START = datetime.date(2024, 1, 1)
PRICE = Decimal("10")
SETUP_CHUNK = 500  # records per create() during (untimed) setup
TEMPLATE_DB = "template"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "sizes",
        nargs="*",
        type=int,
        default=[100, 500],
        help="numbers of subscriptions (default: 100 500)",
    )
    p.add_argument(
        "--via",
        choices=["direct", "proteus"],
        default="direct",
        help="call generate_* directly (default) or through proteus wizards",
    )
    p.add_argument("--dir", help="database directory (default: a temp dir, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the database directory")
    p.add_argument("--json", action="store_true", help="also print one JSON object per size")
    return p.parse_args()


def init_environment(db_dir):
    # Must happen before anything from trytond is imported: the backend and
    # the database path are read from the configuration at import time.
    os.environ["TRYTOND_DATABASE_URI"] = "sqlite://"
    os.environ["TRYTOND_DATABASE__PATH"] = db_dir
    os.environ.pop("TRYTOND_CONFIG", None)
    os.environ.setdefault("TZ", "UTC")
    import trytond.config  # noqa: F401  (freeze the configuration now)


def create_template_db(db_dir):
    """Create and initialise the template database (module activation)."""
    # The SQLite backend refuses to connect to a file that does not exist.
    open(os.path.join(db_dir, TEMPLATE_DB + ".sqlite"), "w").close()
    passfile = os.path.join(db_dir, "admin.pass")
    with open(passfile, "w") as f:
        f.write("admin-password\n")
    admin = os.path.join(os.path.dirname(sys.executable), "trytond-admin")
    env = dict(os.environ, TRYTONPASSFILE=passfile)
    subprocess.run(
        [
            admin,
            "-d",
            TEMPLATE_DB,
            "--all",
            "-u",
            "sale_subscription",
            "--activate-dependencies",
            "--email",
            "admin@example.com",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def setup_template_data():
    """Company, chart of accounts, recurrence, service (through proteus)."""
    from proteus import Model, Wizard
    from proteus import config as pconfig

    cfg = pconfig.set_trytond(TEMPLATE_DB)

    Party = Model.get("party.party")
    User = Model.get("res.user")
    Currency = Model.get("currency.currency")
    CurrencyRate = Model.get("currency.currency.rate")

    usd = Currency(name="U.S. Dollar", symbol="$", code="USD", rounding=Decimal("0.01"))
    usd.save()
    CurrencyRate(date=datetime.date.min, rate=Decimal(1), currency=usd).save()

    company_party = Party(name="Peer Company")
    company_party.save()
    company_config = Wizard("company.company.config")
    company_config.execute("company")
    company_config.form.party = company_party
    company_config.form.currency = usd
    company_config.execute("add")
    cfg._context = User.get_preferences(True, {})
    Company = Model.get("company.company")
    (company,) = Company.find()

    # Minimal chart of accounts: needed for the receivable account of the
    # customer and the revenue account of the invoice lines.  No fiscal year
    # is needed: generated invoices stay in draft.
    AccountTemplate = Model.get("account.account.template")
    ModelData = Model.get("ir.model.data")
    Account = Model.get("account.account")
    template = AccountTemplate(ModelData.get_id("account.account_template_root_en", cfg.context))
    create_chart = Wizard("account.create_chart")
    create_chart.execute("account")
    create_chart.form.account_template = template
    create_chart.form.company = company
    create_chart.execute("create_account")

    def account(kind):
        return Account.find(
            [
                (f"type.{kind}", "=", True),
                ("company", "=", company.id),
                ("closed", "!=", True),
            ],
            limit=1,
        )[0]

    receivable, payable = account("receivable"), account("payable")
    revenue, expense = account("revenue"), account("expense")
    create_chart.form.account_receivable = receivable
    create_chart.form.account_payable = payable
    create_chart.form.category_account_revenue = revenue
    create_chart.form.category_account_expense = expense
    create_chart.execute("create_properties")

    RuleSet = Model.get("sale.subscription.recurrence.rule.set")
    monthly = RuleSet(name="Monthly")
    (rule,) = monthly.rules
    rule.freq = "monthly"
    rule.interval = 1
    monthly.save()

    Category = Model.get("product.category")
    category = Category(name="Subscriptions", accounting=True, account_revenue=revenue)
    category.save()

    Uom = Model.get("product.uom")
    (unit,) = Uom.find([("name", "=", "Unit")])
    Template = Model.get("product.template")
    ptemplate = Template(
        name="Monthly plan",
        type="service",
        default_uom=unit,
        list_price=PRICE,
        salable=True,
        account_category=category,
    )
    ptemplate.save()
    (product,) = ptemplate.products

    Service = Model.get("sale.subscription.service")
    service = Service(product=product, consumption_recurrence=monthly)
    service.save()


def create_subscriptions(db_name, n):
    """N customers, N running subscriptions with one monthly line (untimed)."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(db_name)
    pool.init()
    with Transaction().start(db_name, 0, readonly=True):
        User = pool.get("res.user")
        (admin,) = User.search([("login", "=", "admin")])
        with Transaction().set_user(admin.id):
            context = User.get_preferences(context_only=True)

    with Transaction().start(db_name, admin.id, context=context) as tr:
        Party = pool.get("party.party")
        Company = pool.get("company.company")
        RuleSet = pool.get("sale.subscription.recurrence.rule.set")
        Service = pool.get("sale.subscription.service")
        Subscription = pool.get("sale.subscription")

        (company,) = Company.search([])
        (monthly,) = RuleSet.search([("name", "=", "Monthly")])
        (service,) = Service.search([])
        product = service.product

        # Created in chunks: a single create() of >= ~1000 records whose
        # domain depends on another field (invoice_address <- party) makes
        # trytond validate with an OR of one clause per record, which SQLite
        # rejects ("Expression tree is too large (maximum depth 1000)").
        subscriptions = []
        for lo in range(0, n, SETUP_CHUNK):
            parties = Party.create(
                [
                    {
                        "name": f"Customer {i:05d}",
                        "addresses": [("create", [{"street": f"{i} Main St"}])],
                    }
                    for i in range(lo, min(n, lo + SETUP_CHUNK))
                ]
            )
            subscriptions += Subscription.create(
                [
                    {
                        "company": company.id,
                        "currency": company.currency.id,
                        "party": p.id,
                        "invoice_address": p.addresses[0].id,
                        "start_date": START,
                        "invoice_recurrence": monthly.id,
                        "lines": [
                            (
                                "create",
                                [
                                    {
                                        "service": service.id,
                                        "quantity": 1,
                                        "unit": product.sale_uom.id,
                                        "unit_price": PRICE,
                                        "consumption_recurrence": monthly.id,
                                        "start_date": START,
                                    }
                                ],
                            )
                        ],
                    }
                    for p in parties
                ]
            )
        for lo in range(0, n, SETUP_CHUNK):
            chunk = subscriptions[lo : lo + SETUP_CHUNK]
            Subscription.quote(chunk)
            Subscription.run(chunk)
        tr.commit()
    return admin.id, context


def copy_db(db_dir, src, dst):
    # trytond opens SQLite in WAL mode: committed data may still sit in the
    # -wal file, so a plain file copy can miss it.  Use the backup API.
    import sqlite3

    source = sqlite3.connect(os.path.join(db_dir, src + ".sqlite"))
    target = sqlite3.connect(os.path.join(db_dir, dst + ".sqlite"))
    with target:
        source.backup(target)
    source.close()
    target.close()


def count(db_name, user, context, model, domain=()):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with Transaction().start(db_name, user, context=context, readonly=True):
        return Pool().get(model).search_count(list(domain))


def bill_direct(db_name, user, context, date):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(db_name)
    t0 = time.perf_counter()
    with Transaction().start(db_name, user, context=context) as tr:
        pool.get("sale.subscription.line").generate_consumption(date=date)
        tr.commit()
    t1 = time.perf_counter()
    with Transaction().start(db_name, user, context=context) as tr:
        pool.get("sale.subscription").generate_invoice(date=date)
        tr.commit()
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def bill_proteus(db_name, date):
    from proteus import Wizard
    from proteus import config as pconfig

    pconfig.set_trytond(db_name)  # untimed (pool already loaded)
    t0 = time.perf_counter()
    wiz = Wizard("sale.subscription.line.consumption.create")
    wiz.form.date = date
    wiz.execute("create_")
    t1 = time.perf_counter()
    wiz = Wizard("sale.subscription.create_invoice")
    wiz.form.date = date
    wiz.execute("create_")
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def main():
    args = parse_args()
    db_dir = args.dir or tempfile.mkdtemp(prefix="tryton-peer-")
    os.makedirs(db_dir, exist_ok=True)
    init_environment(db_dir)
    failed = False
    try:
        t = time.perf_counter()
        create_template_db(db_dir)
        setup_template_data()
        print(
            f"# setup: template database ready in {time.perf_counter() - t:.1f}s ({db_dir})",
            file=sys.stderr,
        )

        import trytond

        print(f"# trytond {trytond.__version__}, SQLite, via={args.via}", file=sys.stderr)
        print(
            f"{'N':>6} {'invoices':>8} {'consume_s':>10} "
            f"{'invoice_s':>10} {'ms/invoice':>10} {'total_s':>8}"
        )
        for n in args.sizes:
            db_name = f"bench_{n}"
            copy_db(db_dir, TEMPLATE_DB, db_name)
            t = time.perf_counter()
            user, context = create_subscriptions(db_name, n)
            print(
                f"# N={n}: subscriptions created in {time.perf_counter() - t:.1f}s (untimed)",
                file=sys.stderr,
            )
            try:
                if args.via == "direct":
                    consume_s, invoice_s = bill_direct(db_name, user, context, START)
                else:
                    consume_s, invoice_s = bill_proteus(db_name, START)
            except Exception as e:
                # e.g. N >= ~1000 distinct parties on SQLite:
                # sqlite3.OperationalError: Expression tree is too large
                # (maximum depth 1000), raised by Invoice.save() in
                # generate_invoice (domain validation of invoice_address).
                error = f"{type(e).__module__}.{type(e).__name__}: {e}"
                print(f"{n:>6}   FAILED  {error}", flush=True)
                if args.json:
                    import json

                    print(
                        json.dumps(
                            {
                                "system": "tryton-8.2-sale_subscription",
                                "backend": "sqlite",
                                "via": args.via,
                                "n": n,
                                "error": error,
                            }
                        ),
                        flush=True,
                    )
                failed = True
                continue
            invoices = count(db_name, user, context, "account.invoice")
            lines = count(db_name, user, context, "account.invoice.line")
            running = count(
                db_name,
                user,
                context,
                "sale.subscription",
                [("state", "=", "running"), ("next_invoice_date", "=", datetime.date(2024, 2, 1))],
            )
            assert invoices == n == lines == running, (invoices, lines, running)
            ms = 1000 * invoice_s / invoices if invoices else float("nan")
            print(
                f"{n:>6} {invoices:>8} {consume_s:>10.3f} "
                f"{invoice_s:>10.3f} {ms:>10.2f} "
                f"{consume_s + invoice_s:>8.3f}",
                flush=True,
            )
            if args.json:
                import json

                print(
                    json.dumps(
                        {
                            "system": "tryton-8.2-sale_subscription",
                            "backend": "sqlite",
                            "via": args.via,
                            "n": n,
                            "invoices": invoices,
                            "consumption_seconds": round(consume_s, 4),
                            "invoice_seconds": round(invoice_s, 4),
                            "ms_per_invoice": round(ms, 3),
                            "total_seconds": round(consume_s + invoice_s, 4),
                        }
                    ),
                    flush=True,
                )
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(db_dir, ignore_errors=True)
        elif args.keep:
            print(f"# kept {db_dir}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

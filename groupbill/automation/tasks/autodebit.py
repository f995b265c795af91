"""autodebit: charge the client's auto-debit account for its open invoices whose auto-debit
day (due date - `autodebit_days_before_due`) has come, retried daily while they stay open.
One charge per client, currency and day (that is its idempotency key); after
`autodebit_attempts` declines in a row the account is disabled for auto debit, with a note
on the client. A client with an unsettled charge is skipped until `settle_pending` books
its outcome. Needs `autodebit_enabled` (a client key) and an enabled auto-debit account."""

from collections import defaultdict
from datetime import timedelta

from groupbill.automation.plan import Action, Failed
from groupbill.automation.tasks.common import ENGINE, client_groups
from groupbill.automation.view import CompanyView
from groupbill.billing import accounts, charges
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionKind,
    TransactionStatus,
    shown_number,
)

NAME = "autodebit"


def autodebit_accounts(view: CompanyView) -> dict[int, PaymentAccount]:
    """client id -> its enabled auto-debit account (not expired): one query."""
    unsettled = Transaction.objects.filter(
        company=view.company, kind=TransactionKind.PAYMENT, status=TransactionStatus.PENDING
    )
    rows = (
        view.scoped(
            PaymentAccount.objects.filter(
                client__company=view.company, is_autodebit=True, autodebit_disabled=False
            )
        )
        # A client whose earlier charge is still unsettled waits for its outcome.
        .exclude(client_id__in=unsettled.values("client_id"))
        .select_related("client__company")
    )
    return {a.client_id: a for a in rows if not accounts.expired(a, view.today)}


def autodebit_day(view: CompanyView, invoice_due, group_id: int):
    return invoice_due - timedelta(days=view.value("autodebit_days_before_due", group_id))


def due(view: CompanyView):
    latest = view.today + timedelta(days=view.max_of("autodebit_days_before_due"))
    return Invoice.objects.filter(
        company=view.company,
        status=InvoiceStatus.OPEN,
        due_on__lte=latest,
        client__payment_accounts__is_autodebit=True,
        client__payment_accounts__autodebit_disabled=False,
    ).values("client_id")


def plan(view: CompanyView) -> list[Action]:
    groups = client_groups(view)
    accounts_by_client = autodebit_accounts(view)
    if not accounts_by_client:
        return []
    latest = view.today + timedelta(days=view.max_of("autodebit_days_before_due"))
    due: dict[tuple[int, str], list[Invoice]] = defaultdict(list)
    for invoice in Invoice.objects.filter(
        company=view.company,
        status=InvoiceStatus.OPEN,
        client_id__in=list(accounts_by_client),
        due_on__lte=latest,
    ).order_by("due_on", "pk"):
        group_id = groups[invoice.client_id]
        if not view.value("autodebit_enabled", group_id, invoice.client_id):
            continue
        if autodebit_day(view, invoice.due_on, group_id) <= view.today:
            due[(invoice.client_id, invoice.currency)].append(invoice)
    actions = []
    for (client_id, currency), invoices in sorted(due.items()):
        account = accounts_by_client[client_id]
        amount = sum(i.balance_due for i in invoices)
        key = f"autodebit:{client_id}:{currency}:{view.today.isoformat()}"
        limit = view.value("autodebit_attempts", groups[client_id])

        def apply(account=account, currency=currency, key=key, invoices=invoices, limit=limit):
            # The amount is decided again under the client's lock: what is due then.
            txn = charges.autodebit(
                account, currency, [i.pk for i in invoices], key=key, actor=ENGINE
            )
            if txn is None:
                return False  # charged already today, a charge still pending, or paid
            account.refresh_from_db()
            if txn.status == TransactionStatus.DECLINED and account.failure_count >= limit:
                accounts.disable_for_autodebit(
                    account,
                    actor=ENGINE,
                    reason=f"{account.failure_count} declined auto-debit attempts in a row "
                    f"(last: {txn.note or 'declined'})",
                )
            if txn.status == TransactionStatus.PENDING:
                return Failed("pending: the gateway's answer is unknown; settled on a later run")
            if txn.status != TransactionStatus.APPROVED:
                # Recorded (attempt, decline count, maybe the disabled account): a failure
                # to collect, shown with the gateway's reason.
                return Failed(f"{txn.status}: {txn.note or 'no reason given'}")
            return {"status": txn.status, "transaction": txn.pk, "charged": txn.amount}

        actions.append(
            Action(
                key,
                f"Charge {account} {amount} {currency} for {len(invoices)} invoice(s)",
                apply,
                client_id,
                amount,
                currency,
                {"invoices": [shown_number(i.number) for i in invoices]},
                atomic=False,
            )
        )
    return actions

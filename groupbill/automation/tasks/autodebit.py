"""autodebit: charge the client's auto-debit account for its open invoices whose auto-debit
day (due date - `autodebit_days_before_due`) has come, retried daily while they stay open.
One charge per client, currency and day (that is its idempotency key); after
`autodebit_attempts` declines in a row the account is disabled for auto debit, with a note
on the client. A client with an unsettled charge is skipped until `settle_pending` books
its outcome. Needs `autodebit_enabled` (a client key) and an enabled auto-debit account."""

from collections import defaultdict
from datetime import timedelta
from functools import partial

from groupbill.automation.plan import Action, Failed
from groupbill.automation.tasks.common import ENGINE
from groupbill.automation.view import CompanyView
from groupbill.billing import accounts, autodebit_rules
from groupbill.billing.models import (
    Invoice,
    InvoiceStatus,
    PaymentAccount,
    Transaction,
    TransactionKind,
    TransactionStatus,
    shown_number,
)
from groupbill.money import format_plain

NAME = "autodebit"


def autodebit_accounts(view: CompanyView, client_ids=None) -> dict[int, PaymentAccount]:
    """client id -> its enabled auto-debit account (not expired), of the view's clients
    or of these: one query."""
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
    if client_ids is not None:
        rows = rows.filter(client_id__one_of=client_ids)
    return {a.client_id: a for a in rows if not accounts.expired(a, view.today)}


def autodebit_day(view: CompanyView, invoice_due, client_id: int):
    lead = view.for_client(client_id).value("autodebit_days_before_due")
    return invoice_due - timedelta(days=lead)


def due(view: CompanyView):
    latest = view.today + timedelta(days=view.max_of("autodebit_days_before_due"))
    return Invoice.objects.filter(
        company=view.company,
        status=InvoiceStatus.OPEN,
        due_on__lte=latest,
        client__payment_accounts__is_autodebit=True,
        client__payment_accounts__autodebit_disabled=False,
    ).values("client_id")


def _due_invoices(view: CompanyView, client_ids: list[int]) -> dict[tuple[int, str], list[Invoice]]:
    """(client id, currency) -> its open invoices whose auto-debit day has come, of the
    clients with auto debit on, oldest due date first."""
    latest = view.today + timedelta(days=view.max_of("autodebit_days_before_due"))
    due: dict[tuple[int, str], list[Invoice]] = defaultdict(list)
    for invoice in Invoice.objects.filter(
        company=view.company,
        status=InvoiceStatus.OPEN,
        client_id__in=client_ids,
        due_on__lte=latest,
    ).order_by("due_on", "pk"):
        if not view.for_client(invoice.client_id).value("autodebit_enabled"):
            continue
        if autodebit_day(view, invoice.due_on, invoice.client_id) <= view.today:
            due[(invoice.client_id, invoice.currency)].append(invoice)
    return due


def _charge(account: PaymentAccount, currency: str, invoice_ids: list[int], key: str, limit: int):
    """The charge's outcome as the engine reports it: done (what was charged), nothing to
    do, or a failure to collect (recorded: the attempt, its decline count, maybe the
    disabled account), shown with the gateway's reason."""
    txn = autodebit_rules.charge_and_count_decline(
        account, currency, invoice_ids, key=key, limit=limit, actor=ENGINE
    )
    if txn is None:
        return False  # charged already today, a charge still pending, or paid
    if txn.status == TransactionStatus.PENDING:
        reason = txn.note or "the gateway's answer is unknown"
        return Failed(f"pending: {reason}; settled on a later run")
    if txn.status != TransactionStatus.APPROVED:
        return Failed(f"{txn.status}: {txn.note or 'no reason given'}")
    return {"status": txn.status, "transaction": txn.pk, "charged": txn.amount}


def plan(view: CompanyView) -> list[Action]:
    # Accounts are read (as models, for the charge) only for clients with something due.
    owing = set(view.scoped(due(view)).values_list("client_id", flat=True))
    accounts_by_client = autodebit_accounts(view, owing) if owing else {}
    if not accounts_by_client:
        return []
    actions = []
    for (client_id, currency), invoices in sorted(
        _due_invoices(view, list(accounts_by_client)).items()
    ):
        account = accounts_by_client[client_id]
        amount = sum(i.balance_due for i in invoices)
        key = f"autodebit:{client_id}:{currency}:{view.today.isoformat()}"
        limit = view.for_client(client_id).value("autodebit_attempts")
        invoice_ids = [i.pk for i in invoices]
        actions.append(
            Action(
                key,
                f"Charge {account} {format_plain(amount, currency)} {currency} "
                f"for {len(invoices)} invoice(s)",
                partial(_charge, account, currency, invoice_ids, key, limit),
                client_id,
                amount,
                currency,
                {"invoices": [shown_number(i.number) for i in invoices]},
                atomic=False,
            )
        )
    return actions

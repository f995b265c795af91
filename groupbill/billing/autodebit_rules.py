"""Auto debit's rule on declines: a charge of the client's auto-debit account is counted
(the account's `failure_count`, kept by the charge itself), and after `limit` declines in a
row the account is disabled for auto debit, with the reason noted on the client."""

from groupbill.billing import accounts, charges
from groupbill.billing.models import PaymentAccount, Transaction, TransactionStatus


def charge_and_count_decline(
    account: PaymentAccount,
    currency: str,
    invoice_ids: list[int],
    *,
    key: str,
    limit: int,
    actor: str,
) -> Transaction | None:
    """Charge the account for these invoices (the amount is decided under the client's
    lock: what is due then) and, when this is the `limit`-th decline in a row, disable it
    for auto debit. The charge as booked (approved, declined or still pending), or None
    when there was nothing to do: charged already under this key, a charge still pending,
    or nothing left to pay. `account` is refreshed with its new decline count."""
    txn = charges.autodebit(account, currency, invoice_ids, key=key, actor=actor)
    if txn is None:
        return None
    account.refresh_from_db()
    if txn.status == TransactionStatus.DECLINED and account.failure_count >= limit:
        accounts.disable_for_autodebit(
            account,
            actor=actor,
            reason=f"{account.failure_count} declined auto-debit attempts in a row "
            f"(last: {txn.note or 'declined'})",
        )
    return txn

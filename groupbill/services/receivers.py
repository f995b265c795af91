from django.db import transaction

from groupbill.billing.models import Invoice
from groupbill.companies.queries import company_today


def unsuspend_when_paid(sender, invoice: Invoice, **kwargs) -> None:
    """SETTINGS: an automatically suspended service is unsuspended as soon as it has no
    past-due open invoice left: from the payment itself, not only on the engine's next run.
    Once the payment has committed: the module calls must not run inside its transaction
    (and if this process dies first, the engine's `unsuspend` task does it)."""
    from groupbill.services.lifecycle import unsuspend_cleared

    client_id, today = invoice.client_id, company_today(invoice.company)
    transaction.on_commit(lambda: unsuspend_cleared(client_id, today=today, actor="system:payment"))

from groupbill.billing.models import Invoice
from groupbill.companies.queries import company_today


def unsuspend_when_paid(sender, invoice: Invoice, **kwargs) -> None:
    """SETTINGS: an automatically suspended service is unsuspended as soon as it has no
    past-due open invoice left: from the payment itself, not only on the engine's next run."""
    from groupbill.services.actions import unsuspend_cleared

    unsuspend_cleared(
        invoice.client_id, today=company_today(invoice.company), actor="system:payment"
    )

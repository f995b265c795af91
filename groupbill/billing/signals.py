"""What billing tells the domains above it, which it does not know (services unsuspend,
notices queue the client's message). Sent inside the transaction that made the change, so
a receiver's writes commit or roll back with it."""

from django.dispatch import Signal

# A draft invoice was created (kwargs: invoice).
invoice_created = Signal()
# Invoices of a company were numbered and opened (kwargs: company_id, invoice_ids, created:
# True when they were made issued, without a draft: renewals). Ids, not instances: the
# engine issues thousands at once, and a receiver reads only what it needs.
invoices_issued = Signal()
# An invoice was voided (kwargs: invoice, reason).
invoice_voided = Signal()
# An invoice became paid (kwargs: invoice).
invoice_paid = Signal()
# A payment was applied to an invoice (kwargs: txn, invoice, paid_on).
payment_received = Signal()
# A charge was declined (kwargs: txn, invoice, reason).
payment_declined = Signal()
# A payment account was disabled for auto debit (kwargs: account, reason, key).
account_disabled = Signal()
# Money was given back on a payment (kwargs: txn, the refund transaction).
payment_refunded = Signal()
# A card holder disputed a payment with their bank (kwargs: txn, dispute, amount, currency,
# reason, key): the staff are told, once per dispute (key).
payment_disputed = Signal()
# A charge waits for its card holder to authenticate it (3-D Secure) (kwargs: txn, invoice):
# the client is asked to, once per attempt.
payment_action_required = Signal()

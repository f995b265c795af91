"""Gap-free numbers per company (invoices, credit notes): taken under the sequence row's
lock inside the caller's transaction, so a rollback gives them back. A preview takes no
lock: its numbers are in a band of their own (`models.PREVIEW_NUMBERS`)."""

from groupbill.billing import lock_objects
from groupbill.billing.models import CreditNoteSequence, InvoiceSequence

Sequence = type[InvoiceSequence] | type[CreditNoteSequence]


def take(sequence: Sequence, company_id: int, count: int) -> int:
    """Take `count` consecutive numbers of the company's `sequence`, returning the first."""
    sequence.objects.get_or_create(company_id=company_id)
    if lock_objects.previewing():
        row = sequence.objects.get(company_id=company_id)
        key = (sequence._meta.label, company_id)
        return lock_objects.preview_numbers(key, count, row.next_number)
    row = sequence.objects.select_for_update().get(company_id=company_id)
    first = row.next_number
    row.next_number = first + count
    row.save(update_fields=["next_number"])
    return first

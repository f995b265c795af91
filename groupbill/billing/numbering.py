"""Gap-free numbers per company (invoices, credit notes): taken under the sequence row's
lock inside the caller's transaction, so a rollback gives them back. A preview takes no
lock: its numbers are in a band of their own (`models.PREVIEW_NUMBERS`)."""

from django.db import IntegrityError, connection, transaction

from groupbill.billing import lock_objects
from groupbill.billing.models import CreditNoteSequence, InvoiceSequence

Sequence = type[InvoiceSequence] | type[CreditNoteSequence]


def take(sequence: Sequence, company_id: int, count: int) -> int:
    """Take `count` consecutive numbers of the company's `sequence`, returning the first."""
    if lock_objects.previewing():
        row, _ = sequence.objects.get_or_create(company_id=company_id)
        key = (sequence._meta.label, company_id)
        return lock_objects.preview_numbers(key, count, row.next_number)
    # One statement moves the sequence on and holds its row's lock to the transaction's
    # end (it was three: ensure the row, read it locked, write it).
    table = sequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{table}" SET "next_number" = "next_number" + %s WHERE "company_id" = %s '
            'RETURNING "next_number"',
            [count, company_id],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0] - count
    try:  # the company's first numbers: its sequence starts after them
        with transaction.atomic():
            first = sequence._meta.get_field("next_number").default
            sequence.objects.create(company_id=company_id, next_number=first + count)
        return first
    except IntegrityError:  # another transaction started it first: take from it
        return take(sequence, company_id, count)

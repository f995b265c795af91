"""Rows written by `bulk_sql` read back as the ORM would have saved them: defaults filled
in (a mutable default made afresh per row), dates and JSON converted, ids in order."""

from datetime import date

from django.db import transaction

from groupbill import bulk_sql
from groupbill.billing.models import Invoice, InvoiceStatus


def test_rows_read_back_as_saved(make_client):
    ada = make_client()
    rows = [
        {"company_id": ada.company_id, "client_id": ada.pk, "currency": "EUR",
         "issued_on": date(2027, 2, 28),
         "buyer": {"name": "Ada", "address": ["Ü 1"], "vat": None, 7: 1.5}},
        {"company_id": ada.company_id, "client_id": ada.pk, "currency": "JPY"},
    ]  # fmt: skip
    with transaction.atomic():
        ids = bulk_sql.insert_values(Invoice, rows)
    assert ids == sorted(ids)
    first, second = (Invoice.objects.get(pk=pk) for pk in ids)
    assert (first.issued_on, first.buyer, first.status) == (
        date(2027, 2, 28),
        {"name": "Ada", "address": ["Ü 1"], "vat": None, "7": 1.5},  # as `json` keys them
        InvoiceStatus.DRAFT,
    )  # fmt: skip
    assert (second.currency, second.buyer, second.seller, second.issued_on) == (
        "JPY", {}, {}, None
    )  # fmt: skip
    assert first.created_at == second.created_at  # one moment for the batch


def test_update_values_sets_each_row(make_client):
    ada = make_client()
    with transaction.atomic():
        ids = bulk_sql.insert_values(Invoice, [
            {"company_id": ada.company_id, "client_id": ada.pk, "currency": "EUR"}
            for _ in range(3)
        ])  # fmt: skip
        moved = [(date(2027, 3, n), f"n{n}", pk) for n, pk in enumerate(ids, 1)]
        bulk_sql.update_values(Invoice, ["due_on", "notes"], moved)
    rows = Invoice.objects.filter(pk__in=ids).order_by("pk").values_list("due_on", "notes")
    assert list(rows) == [(due, notes) for due, notes, _ in moved]


def test_update_values_sets_rows_sharing_values_together(make_client):
    ada = make_client()
    with transaction.atomic():
        ids = bulk_sql.insert_values(Invoice, [
            {"company_id": ada.company_id, "client_id": ada.pk, "currency": "EUR"}
            for _ in range(12)
        ])  # fmt: skip
        moved = [(date(2027, 3, 1 + n % 2), "same" if n % 2 else "", pk)
                 for n, pk in enumerate(ids)]  # fmt: skip
        bulk_sql.update_values(Invoice, ["due_on", "notes"], moved)
    rows = Invoice.objects.filter(pk__in=ids).order_by("pk").values_list("due_on", "notes")
    assert list(rows) == [(due, notes) for due, notes, _ in moved]
    assert Invoice.objects.exclude(pk__in=ids).filter(notes="same").count() == 0

"""Price lists, a package's and an option value's alike: one price per term and currency.

A list is replaced, not patched: rows are matched by their term and currency (unit,
count, currency), so a price that stays keeps its id (services point at it) and a price
that services still use cannot be removed (409)."""

from collections.abc import Callable, Iterable
from typing import Any

from django.db.models import ProtectedError

from groupbill.catalog.cleaning import PRICE_FIELDS, term_label
from groupbill.catalog.models import TermPriced
from groupbill.errors import Conflict


def price_rows(prices: Iterable[TermPriced]) -> list[dict[str, Any]]:
    return [{f: getattr(p, f) for f in PRICE_FIELDS} for p in prices]


def replace_prices(
    current: list[TermPriced], cleaned: list[dict[str, Any]], make: Callable[..., TermPriced]
) -> None:
    """Make the stored rows equal `cleaned`, matched by (unit, count, currency): kept rows
    keep their ids, changed amounts are updated, missing rows are deleted."""
    by_key = {(p.unit, p.count, p.currency): p for p in current}
    wanted = {(r["unit"], r["count"], r["currency"]) for r in cleaned}
    for key, stale in by_key.items():
        if key not in wanted:
            try:
                stale.delete()
            except ProtectedError as exc:
                used = len(exc.protected_objects)
                raise Conflict(
                    f"The {term_label(*key)} price is used by {used} service(s) and cannot "
                    "be removed; keep it in the list (its amount may change)."
                ) from None
    for row in cleaned:
        existing = by_key.get((row["unit"], row["count"], row["currency"]))
        if existing is None:
            make(**row).save()
        elif (existing.price, existing.setup_fee) != (row["price"], row["setup_fee"]):
            existing.price, existing.setup_fee = row["price"], row["setup_fee"]
            existing.save(update_fields=["price", "setup_fee"])

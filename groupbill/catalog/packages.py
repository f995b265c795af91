"""A company's packages: create, change (identity, addon links, prices), activate and
deactivate, delete. Each action validates everything first (`cleaning`), then writes in
one transaction with the package row locked, so a change happens whole or not at all.
Every change is audited at level "package"; the webhook secret is never written to the
audit log."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.catalog.cleaning import clean_package, clean_prices
from groupbill.catalog.models import Package, PackagePrice
from groupbill.catalog.prices import price_rows, replace_prices
from groupbill.companies.models import Company
from groupbill.errors import Conflict, FieldError

REDACTED = "[redacted]"
# What the audit log and the API show of a package (never the secret itself).
SNAPSHOT_FIELDS = ("name", "description", "module", "webhook_url", "client_can_order_as_addon",
                   "active")  # fmt: skip


# A fresh read: the package callers pass in may carry prefetched (older) prices.
def _prices_of(package: Package) -> list[PackagePrice]:
    return list(PackagePrice.objects.filter(package=package).order_by("pk"))


def snapshot(package: Package) -> dict[str, Any]:
    """The package as the audit log records it."""
    return {
        **{f: getattr(package, f) for f in SNAPSHOT_FIELDS},
        "has_webhook_secret": bool(package.webhook_secret),
        "addon_of": sorted(package.addon_of.values_list("pk", flat=True)),
        "prices": price_rows(_prices_of(package)),
    }


def _audit_value(field: str, value: Any) -> Any:
    return (REDACTED if value else "") if field == "webhook_secret" else value


def lock_package(package: Package) -> None:
    """Lock the package row: its changes, and its options', happen one at a time."""
    Package.objects.select_for_update().filter(pk=package.pk).first()


def create_package(
    company: Company,
    data: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> Package:
    """A package of `company`: name (required), description, module (none | test | webhook;
    webhook needs webhook_url and webhook_secret), client_can_order_as_addon, addon_of
    (ids of packages of the same company) and optionally its first prices.

    `unreadable`: errors the caller met reading its input (an amount a form could not
    parse); they are raised with the package's own, and nothing is written."""
    fields, addon_of, prices = clean_package(company.pk, data, None, unreadable)
    with transaction.atomic():
        package = Package.objects.create(company=company, **fields)
        if addon_of:
            package.addon_of.set(addon_of)
        if prices:
            replace_prices([], prices, lambda **row: PackagePrice(package=package, **row))
        record(subject=package, actor=actor, action="package.create", new=wrap(snapshot(package)))
    return package


def update_package(
    package: Package,
    changes: dict[str, Any],
    *,
    actor: str,
    unreadable: Sequence[FieldError] = (),
) -> Package:
    """Change any of create_package's fields, `active`, and (replacing the list) `prices`.
    Switching the module away from webhook clears the URL and the secret. `unreadable`
    as for create_package."""
    fields, addon_of, prices = clean_package(package.company_id, changes, package, unreadable)
    with transaction.atomic():
        lock_package(package)
        for field, value in fields.items():
            old = getattr(package, field)
            if old == value:
                continue
            setattr(package, field, value)
            action = "package.update"
            if field == "active":
                action = "package.activate" if value else "package.deactivate"
            record(subject=package, actor=actor, action=action, key=field,
                   old=wrap(_audit_value(field, old)),
                   new=wrap(_audit_value(field, value)))  # fmt: skip
        package.save()
        if addon_of is not None:
            old_ids = sorted(package.addon_of.values_list("pk", flat=True))
            if old_ids != sorted(addon_of):
                package.addon_of.set(addon_of)
                record(subject=package, actor=actor, action="package.update", key="addon_of",
                       old=wrap(old_ids), new=wrap(sorted(addon_of)))  # fmt: skip
        if prices is not None:
            _set_prices(package, prices, actor)
    return package


def deactivate_package(package: Package, *, actor: str) -> Package:
    """An inactive package stays on its services but cannot be ordered."""
    return update_package(package, {"active": False}, actor=actor)


def activate_package(package: Package, *, actor: str) -> Package:
    return update_package(package, {"active": True}, actor=actor)


def _set_prices(package: Package, prices: list[dict[str, Any]], actor: str) -> None:
    current = _prices_of(package)
    old = price_rows(current)
    replace_prices(current, prices, lambda **row: PackagePrice(package=package, **row))
    new = price_rows(_prices_of(package))
    if sorted(old, key=_price_key) != sorted(new, key=_price_key):
        record(
            subject=package,
            actor=actor,
            action="package.prices",
            key="prices",
            old=wrap(old),
            new=wrap(new),
        )


def _price_key(row: dict[str, Any]) -> tuple:
    return (row["unit"], row["count"], row["currency"])


def set_package_prices(package: Package, prices: Any, *, actor: str) -> Package:
    """Replace the package's price list (at least one price) in one go."""
    errors: list[FieldError] = []
    cleaned = clean_prices(prices, "prices", errors, required=True)
    v.raise_if(errors)
    with transaction.atomic():
        lock_package(package)
        _set_prices(package, cleaned, actor)
    return package


def delete_package(package: Package, *, actor: str) -> None:
    """Only a package no service uses can be deleted; otherwise deactivate it."""
    try:
        with transaction.atomic():
            lock_package(package)
            record(
                subject=package, actor=actor, action="package.delete", old=wrap(snapshot(package))
            )
            package.delete()
    except ProtectedError:
        raise Conflict(
            f'Package "{package.name}" has services and cannot be deleted; deactivate it instead.'
        ) from None

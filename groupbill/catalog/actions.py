"""The product catalogue's use cases: packages, their prices per term and currency, and
configurable options. The API, the UI and the CLI call these.

Each action validates everything first (errors name the field, nested items by dotted
path: "prices.1.count", "values.0.prices.2.currency"), then writes in one transaction with
the package row locked, so a change happens whole or not at all. Every change is audited
at level "package". The webhook secret is never written to the audit log.

Price lists are replaced, not patched: rows are matched by their term and currency
(unit, count, currency), so a price that stays keeps its id (services point at it) and a
price that services still use cannot be removed (409).
"""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import ProtectedError

from groupbill import validation as v
from groupbill.audit.actions import record, wrap
from groupbill.catalog.models import (
    ConfigOption,
    ConfigOptionPrice,
    ConfigOptionValue,
    OptionKind,
    Package,
    PackagePrice,
    PricingUnit,
    TermPriced,
)
from groupbill.companies.models import Company
from groupbill.currencies import clean_currency
from groupbill.errors import Conflict, FieldError
from groupbill.provisioning import MODULE_NAMES

# Provisioning modules by name, from their registry (today: none, test, webhook).
MODULES = MODULE_NAMES
MAX_TERM_COUNT = 36
# Amounts are minor units; the bound keeps sums and quantities far from 64-bit overflow.
MAX_AMOUNT = 10**12
MAX_PRICES = 100
MAX_VALUES = 100
MAX_ADDON_OF = 500
WEBHOOK_SECRET_MIN = 16
WEBHOOK_SECRET_MAX = 128
REDACTED = "[redacted]"

# --- Field cleaners --------------------------------------------------------------------


def _text(value: Any, *, max_length: int, required: bool = False) -> str:
    value = v.text(value, max_length=max_length, required=required)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_url_validator = URLValidator(schemes=["http", "https"])


def clean_webhook_url(value: Any) -> str:
    value = _text(value, max_length=200)
    if value:
        try:
            _url_validator(value)
        except DjangoValidationError:
            raise ValueError("must be an http:// or https:// URL") from None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
    return value


def clean_webhook_secret(value: Any) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if not WEBHOOK_SECRET_MIN <= len(value) <= WEBHOOK_SECRET_MAX:
        raise ValueError(f"must be {WEBHOOK_SECRET_MIN} to {WEBHOOK_SECRET_MAX} characters long")
    if value != value.strip() or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ValueError("must not contain control characters or start or end with spaces")
    return value


def _whole_number(value: Any, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be a whole number")
    if not lo <= value <= hi:
        raise ValueError(f"must be between {lo} and {hi}")
    return value


def clean_amount(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("must be a whole number of minor units (1250 for 12.50)")
    if value < 0:
        raise ValueError("must not be negative")
    if value > MAX_AMOUNT:
        raise ValueError(f"must be at most {MAX_AMOUNT}")
    return value


PACKAGE_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda x: _text(x, max_length=128, required=True),
    "description": lambda x: _text(x, max_length=5000),
    "module": lambda x: v.choice(x, MODULES),
    "webhook_url": clean_webhook_url,
    "webhook_secret": clean_webhook_secret,
    "client_can_order_as_addon": v.boolean,
    "active": v.boolean,
}
PRICE_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "unit": lambda x: v.choice(x, PricingUnit.values),
    "count": lambda x: _whole_number(x, 1, MAX_TERM_COUNT),
    "currency": clean_currency,
    "price": clean_amount,
    "setup_fee": clean_amount,
}
PRICE_FIELDS = tuple(PRICE_CLEANERS)
OPTION_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "name": lambda x: _text(x, max_length=128, required=True),
    "kind": lambda x: v.choice(x, OptionKind.values),
}
# What the audit log and the API show of a package (never the secret itself).
SNAPSHOT_FIELDS = ("name", "description", "module", "webhook_url", "client_can_order_as_addon",
                   "active")  # fmt: skip


def term_label(unit: str, count: int, currency: str) -> str:
    if unit == PricingUnit.ONETIME:
        return f"one time {currency}"
    return f"{count} {unit}{'s' if count != 1 else ''} {currency}"


def _is_list(value: Any, path: str, errors: list[FieldError], what: str, limit: int) -> bool:
    if not isinstance(value, list):
        errors.append(FieldError(path, f"must be a list of {what}"))
        return False
    if len(value) > limit:
        errors.append(FieldError(path, f"must have at most {limit} {what}"))
        return False
    return True


def clean_prices(
    items: Any, path: str, errors: list[FieldError], *, required: bool
) -> list[dict[str, Any]]:
    """A list of {unit, count (default 1), currency, price, setup_fee (default 0)}: each
    term and currency at most once; one-time prices have count 1."""
    if not _is_list(items, path, errors, "prices", MAX_PRICES):
        return []
    if required and not items:
        errors.append(FieldError(path, "at least one price is required"))
    cleaned: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    for i, item in enumerate(items):
        at = f"{path}.{i}"
        if not isinstance(item, dict):
            errors.append(FieldError(at, "must be an object with unit, currency and price"))
            continue
        row, row_errors = v.collect(item, PRICE_CLEANERS)
        errors += [FieldError(f"{at}.{e.field}", e.message) for e in row_errors]
        for name in ("unit", "currency", "price"):
            if name not in item:
                errors.append(FieldError(f"{at}.{name}", "is required"))
        if row_errors or not {"unit", "currency", "price"} <= set(row):
            continue
        row.setdefault("count", 1)
        row.setdefault("setup_fee", 0)
        if row["unit"] == PricingUnit.ONETIME and row["count"] != 1:
            errors.append(FieldError(f"{at}.count", "must be 1 for a one-time price"))
            continue
        key = (row["unit"], row["count"], row["currency"])
        if key in seen:
            errors.append(
                FieldError(at, f"repeats {path}.{seen[key]} ({term_label(*key)}); "
                               "each term and currency may have one price")
            )  # fmt: skip
            continue
        seen[key] = i
        cleaned.append({f: row[f] for f in PRICE_FIELDS})
    return cleaned


def _replace_prices(
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


# Fresh reads: the objects callers pass in may carry prefetched (older) relations.
def _prices_of(package: Package) -> list[PackagePrice]:
    return list(PackagePrice.objects.filter(package=package).order_by("pk"))


def _values_of(option: ConfigOption) -> list[ConfigOptionValue]:
    return list(
        ConfigOptionValue.objects.filter(option=option).order_by("pk").prefetch_related("prices")
    )


def price_rows(prices) -> list[dict[str, Any]]:
    return [{f: getattr(p, f) for f in PRICE_FIELDS} for p in prices]


# --- Packages --------------------------------------------------------------------------


def _clean_addon_of(
    company_id: int, value: Any, self_id: int | None, errors: list[FieldError]
) -> list[int] | None:
    if not _is_list(value, "addon_of", errors, "package ids", MAX_ADDON_OF):
        return None
    given: list[tuple[int, int]] = []  # (position, id)
    ok = True
    for i, item in enumerate(value):
        package_id = v.parse_id(item) if isinstance(item, int) else None
        if package_id is None:
            errors.append(FieldError(f"addon_of.{i}", "must be a package id"))
            ok = False
        elif package_id == self_id:
            errors.append(FieldError(f"addon_of.{i}", "a package cannot be an addon of itself"))
            ok = False
        elif package_id in (pid for _, pid in given):
            errors.append(FieldError(f"addon_of.{i}", f"package {package_id} is listed twice"))
            ok = False
        else:
            given.append((i, package_id))
    ids = [pid for _, pid in given]
    found = set(
        Package.objects.filter(company_id=company_id, pk__in=ids).values_list("pk", flat=True)
    )
    for i, package_id in given:
        if package_id not in found:
            errors.append(FieldError(f"addon_of.{i}", f"no package {package_id} in this company"))
            ok = False
    return ids if ok else None


def _clean_package(
    company_id: int, data: dict[str, Any], package: Package | None
) -> tuple[dict[str, Any], list[int] | None, list[dict] | None]:
    """(fields, addon_of or None when not given, prices or None when not given); raises
    ValidationFailed with every error at once."""
    scalar = {k: val for k, val in data.items() if k not in ("addon_of", "prices")}
    fields, errors = v.collect(scalar, PACKAGE_CLEANERS)
    if package is None and "name" not in data:
        errors.append(FieldError("name", "is required"))
    addon_of = None
    if "addon_of" in data:
        addon_of = _clean_addon_of(company_id, data["addon_of"], package and package.pk, errors)
    prices = None
    if "prices" in data:
        prices = clean_prices(data["prices"], "prices", errors, required=package is not None)
    _check_webhook(data, fields, package, errors)
    v.raise_if(errors)
    return fields, addon_of, prices


def _check_webhook(
    data: dict[str, Any], fields: dict[str, Any], package: Package | None, errors: list
) -> None:
    """The webhook module needs a URL and a secret; other modules keep neither."""
    failed = {e.field for e in errors}
    if "module" in failed:
        return

    def effective(name: str, default: Any) -> Any:
        if name in fields:
            return fields[name]
        return getattr(package, name) if package is not None else default

    module = effective("module", "none")
    for name in ("webhook_url", "webhook_secret"):
        if name in failed:
            continue
        value = effective(name, "")
        if module == "webhook" and not value:
            errors.append(FieldError(name, "is required for the webhook module"))
        elif module != "webhook" and data.get(name):
            errors.append(FieldError(name, "is only used by the webhook module"))
        elif module != "webhook" and value:
            fields[name] = ""  # switching away from the webhook module forgets both


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


def _lock(package: Package) -> None:
    Package.objects.select_for_update().filter(pk=package.pk).first()


def create_package(company: Company, data: dict[str, Any], *, actor: str) -> Package:
    """A package of `company`: name (required), description, module (none | test | webhook;
    webhook needs webhook_url and webhook_secret), client_can_order_as_addon, addon_of
    (ids of packages of the same company) and optionally its first prices."""
    fields, addon_of, prices = _clean_package(company.pk, data, None)
    with transaction.atomic():
        package = Package.objects.create(company=company, **fields)
        if addon_of:
            package.addon_of.set(addon_of)
        if prices:
            _replace_prices([], prices, lambda **row: PackagePrice(package=package, **row))
        record(subject=package, actor=actor, action="package.create", new=wrap(snapshot(package)))
    return package


def update_package(package: Package, changes: dict[str, Any], *, actor: str) -> Package:
    """Change any of create_package's fields, `active`, and (replacing the list) `prices`.
    Switching the module away from webhook clears the URL and the secret."""
    fields, addon_of, prices = _clean_package(package.company_id, changes, package)
    with transaction.atomic():
        _lock(package)
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
    _replace_prices(current, prices, lambda **row: PackagePrice(package=package, **row))
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
        _lock(package)
        _set_prices(package, cleaned, actor)
    return package


def delete_package(package: Package, *, actor: str) -> None:
    """Only a package no service uses can be deleted; otherwise deactivate it."""
    try:
        with transaction.atomic():
            _lock(package)
            record(
                subject=package, actor=actor, action="package.delete", old=wrap(snapshot(package))
            )
            package.delete()
    except ProtectedError:
        raise Conflict(
            f'Package "{package.name}" has services and cannot be deleted; deactivate it instead.'
        ) from None


# --- Configurable options --------------------------------------------------------------


def _clean_values(
    items: Any, option: ConfigOption | None, errors: list[FieldError]
) -> list[dict[str, Any]]:
    """[{id (existing values only), name, prices}]; names unique within the option."""
    if not _is_list(items, "values", errors, "values", MAX_VALUES):
        return []
    existing = set(option.values.values_list("pk", flat=True)) if option is not None else set()
    cleaned: list[dict[str, Any]] = []
    names: dict[str, int] = {}
    ids: set[int] = set()
    for i, item in enumerate(items):
        at = f"values.{i}"
        if not isinstance(item, dict):
            errors.append(FieldError(at, "must be an object with a name and prices"))
            continue
        row: dict[str, Any] = {"id": None}
        for key in sorted(set(item) - {"id", "name", "prices"}):
            errors.append(FieldError(f"{at}.{key}", "unknown field"))
        if item.get("id") is not None:
            value_id = item["id"] if isinstance(item["id"], int) else None
            if v.parse_id(value_id) is None or value_id not in existing:
                where = "this option" if option is not None else "a new option"
                errors.append(FieldError(f"{at}.id", f"no value {item['id']} in {where}"))
            elif value_id in ids:
                errors.append(FieldError(f"{at}.id", f"value {value_id} is listed twice"))
            else:
                ids.add(value_id)
                row["id"] = value_id
        try:
            row["name"] = _text(item.get("name"), max_length=128, required=True)
        except ValueError as exc:
            errors.append(FieldError(f"{at}.name", str(exc)))
        else:
            folded = row["name"].casefold()
            if folded in names:
                errors.append(FieldError(f"{at}.name", f"repeats values.{names[folded]}.name"))
            names.setdefault(folded, i)
        row["prices"] = clean_prices(item.get("prices", []), f"{at}.prices", errors,
                                     required=False)  # fmt: skip
        cleaned.append(row)
    return cleaned


def _clean_option(
    package: Package, data: dict[str, Any], option: ConfigOption | None
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    scalar = {k: val for k, val in data.items() if k != "values"}
    fields, errors = v.collect(scalar, OPTION_CLEANERS)
    if option is None:
        for name in ("name", "values"):
            if name not in data:
                errors.append(FieldError(name, "is required"))
    values = None
    if "values" in data:
        values = _clean_values(data["values"], option, errors)
    if "name" in fields:
        others = package.options.exclude(pk=option.pk if option else None)
        if any(n.casefold() == fields["name"].casefold()
               for n in others.values_list("name", flat=True)):  # fmt: skip
            errors.append(FieldError("name", f'an option named "{fields["name"]}" already exists'))
    kind = fields.get("kind", option.kind if option else OptionKind.SELECT)
    failed = {e.field for e in errors}
    if "values" not in failed and "kind" not in failed and (values is not None or option):
        count = len(data["values"]) if values is not None else option.values.count()
        if count == 0:
            errors.append(FieldError("values", "at least one value is required"))
        elif kind == OptionKind.QUANTITY and count != 1:
            errors.append(
                FieldError("values", "a quantity option has exactly one value (its unit, e.g. GB)")
            )
    v.raise_if(errors)
    return fields, values


def option_snapshot(option: ConfigOption) -> dict[str, Any]:
    return {
        "id": option.pk,
        "name": option.name,
        "kind": option.kind,
        "values": [
            {"id": val.pk, "name": val.name, "prices": price_rows(val.prices.all())}
            for val in _values_of(option)
        ],
    }


def _write_values(option: ConfigOption, values: list[dict[str, Any]]) -> None:
    current = {val.pk: val for val in _values_of(option)}
    keep = {row["id"] for row in values if row["id"] is not None}
    for value_id, stale in current.items():
        if value_id not in keep:
            try:
                stale.delete()
            except ProtectedError:
                raise Conflict(
                    f'Value "{stale.name}" of option "{option.name}" is used by services '
                    "and cannot be removed."
                ) from None
    for row in values:
        value = current.get(row["id"]) if row["id"] is not None else None
        if value is None:
            value = ConfigOptionValue.objects.create(option=option, name=row["name"])
        elif value.name != row["name"]:
            value.name = row["name"]
            value.save(update_fields=["name"])
        _replace_prices(
            list(ConfigOptionPrice.objects.filter(value=value)),
            row["prices"],
            lambda value=value, **price: ConfigOptionPrice(value=value, **price),
        )


def add_option(package: Package, data: dict[str, Any], *, actor: str) -> ConfigOption:
    """A configurable option: name, kind (select: pick one value; quantity: one value
    priced per unit) and values, each with its own prices per term and currency. A value
    without a price for a term and currency is not offered in it (price 0 is free)."""
    with transaction.atomic():
        _lock(package)
        fields, values = _clean_option(package, data, None)
        option = ConfigOption.objects.create(package=package, **fields)
        _write_values(option, values or [])
        record(
            subject=package,
            actor=actor,
            action="option.create",
            key=option.name,
            new=wrap(option_snapshot(option)),
        )
    return option


def update_option(option: ConfigOption, changes: dict[str, Any], *, actor: str) -> ConfigOption:
    """Change name or kind, or replace the values: listed values with an id are kept (and
    renamed, re-priced), values without one are added, values left out are removed."""
    package = option.package
    with transaction.atomic():
        _lock(package)
        fields, values = _clean_option(package, changes, option)
        old = option_snapshot(option)
        for field, value in fields.items():
            setattr(option, field, value)
        option.save()
        if values is not None:
            _write_values(option, values)
        new = option_snapshot(option)
        if old != new:
            record(
                subject=package,
                actor=actor,
                action="option.update",
                key=option.name,
                old=wrap(old),
                new=wrap(new),
            )
    return option


def delete_option(option: ConfigOption, *, actor: str) -> None:
    package = option.package
    try:
        with transaction.atomic():
            _lock(package)
            record(
                subject=package,
                actor=actor,
                action="option.delete",
                key=option.name,
                old=wrap(option_snapshot(option)),
            )
            option.delete()
    except ProtectedError:
        raise Conflict(
            f'Option "{option.name}" is used by services and cannot be deleted.'
        ) from None

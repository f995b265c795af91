"""Reading the catalogue's input: the bounds, the field cleaners, and the validation of a
package, a price list and an option as the actions take them.

Every error is collected, none raised early: errors name the field, nested items by
dotted path ("prices.1.count", "values.0.prices.2.currency"). `clean_package` and
`clean_option` raise them all at once (ValidationFailed), with the errors the caller met
while reading its own input (`unreadable`, e.g. an amount a form could not parse)."""

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator

from groupbill import validation as v
from groupbill.catalog.models import ConfigOption, OptionKind, Package, PricingUnit
from groupbill.currencies import clean_currency
from groupbill.errors import FieldError
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

# --- Field cleaners --------------------------------------------------------------------


def clean_text(value: Any, *, max_length: int, required: bool = False) -> str:
    value = v.text(value, max_length=max_length, required=required)
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_url_validator = URLValidator(schemes=["http", "https"])


def clean_webhook_url(value: Any) -> str:
    value = clean_text(value, max_length=200)
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
    "name": lambda x: clean_text(x, max_length=128, required=True),
    "description": lambda x: clean_text(x, max_length=5000),
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
    "name": lambda x: clean_text(x, max_length=128, required=True),
    "kind": lambda x: v.choice(x, OptionKind.values),
}


def term_label(unit: str, count: int, currency: str) -> str:
    if unit == PricingUnit.ONETIME:
        return f"one time {currency}"
    return f"{count} {unit}{'s' if count != 1 else ''} {currency}"


def _raise_with(errors: list[FieldError], unreadable: Sequence[FieldError]) -> None:
    """Raise `errors` and, after them, the caller's own (`unreadable`), each once."""
    v.raise_if([*errors, *(e for e in unreadable if e not in errors)])


def _is_list(value: Any, path: str, errors: list[FieldError], what: str, limit: int) -> bool:
    if not isinstance(value, list):
        errors.append(FieldError(path, f"must be a list of {what}"))
        return False
    if len(value) > limit:
        errors.append(FieldError(path, f"must have at most {limit} {what}"))
        return False
    return True


# --- Price lists -----------------------------------------------------------------------


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


def clean_package(
    company_id: int,
    data: dict[str, Any],
    package: Package | None,
    unreadable: Sequence[FieldError] = (),
) -> tuple[dict[str, Any], list[int] | None, list[dict] | None]:
    """(fields, addon_of or None when not given, prices or None when not given); raises
    ValidationFailed with every error at once, `unreadable` after the package's own."""
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
    _raise_with(errors, unreadable)
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
            row["name"] = clean_text(item.get("name"), max_length=128, required=True)
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


def clean_option(
    package: Package,
    data: dict[str, Any],
    option: ConfigOption | None,
    unreadable: Sequence[FieldError] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """(fields, values or None when not given); raises ValidationFailed with every error
    at once, `unreadable` after the option's own. Call it with the package locked: option
    names are unique within the package."""
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
    _raise_with(errors, unreadable)
    return fields, values

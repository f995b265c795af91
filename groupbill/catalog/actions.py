"""The product catalogue's use cases, as the API, the UI and the CLI call them: packages,
their prices per term and currency, and configurable options. Each concept lives in a
module of its own; this is their one front door.

- `cleaning`: the bounds and the validation of package, price list and option data;
  errors name the field, nested items by dotted path ("prices.1.count",
  "values.0.prices.2.currency").
- `prices`: price lists are replaced, not patched, matched by term and currency, so a
  price that stays keeps its id and one that services still use cannot be removed (409).
- `packages`, `options`: each action validates everything first (with any errors the
  caller met reading its input, `unreadable`), then writes in one transaction with the
  package row locked, so a change happens whole or not at all. Every change is audited at
  level "package"; the webhook secret is never written to the audit log.
"""

from groupbill.catalog.cleaning import (
    MAX_ADDON_OF,
    MAX_AMOUNT,
    MAX_PRICES,
    MAX_TERM_COUNT,
    MAX_VALUES,
    MODULES,
    OPTION_CLEANERS,
    PACKAGE_CLEANERS,
    PRICE_CLEANERS,
    PRICE_FIELDS,
    WEBHOOK_SECRET_MAX,
    WEBHOOK_SECRET_MIN,
    clean_amount,
    clean_prices,
    clean_webhook_secret,
    clean_webhook_url,
    term_label,
)
from groupbill.catalog.options import add_option, delete_option, option_snapshot, update_option
from groupbill.catalog.packages import (
    REDACTED,
    SNAPSHOT_FIELDS,
    activate_package,
    create_package,
    deactivate_package,
    delete_package,
    set_package_prices,
    snapshot,
    update_package,
)
from groupbill.catalog.prices import price_rows

__all__ = [
    "MAX_ADDON_OF",
    "MAX_AMOUNT",
    "MAX_PRICES",
    "MAX_TERM_COUNT",
    "MAX_VALUES",
    "MODULES",
    "OPTION_CLEANERS",
    "PACKAGE_CLEANERS",
    "PRICE_CLEANERS",
    "PRICE_FIELDS",
    "REDACTED",
    "SNAPSHOT_FIELDS",
    "WEBHOOK_SECRET_MAX",
    "WEBHOOK_SECRET_MIN",
    "activate_package",
    "add_option",
    "clean_amount",
    "clean_prices",
    "clean_webhook_secret",
    "clean_webhook_url",
    "create_package",
    "deactivate_package",
    "delete_option",
    "delete_package",
    "option_snapshot",
    "price_rows",
    "set_package_prices",
    "snapshot",
    "term_label",
    "update_option",
    "update_package",
]

"""EU VAT identification numbers: the member states, and whether a number is well formed
(format, check digits, country) by python-stdnum. An optional VIES lookup confirms a
number is registered; it never blocks when VIES cannot be reached."""

import json
import re
import urllib.request
from typing import Any

from babel import Locale
from django.conf import settings
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

# ISO 3166 codes of the member states (a VAT number says EL for Greece).
EU_COUNTRIES = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})  # fmt: skip
_PREFIX_TO_COUNTRY = {"EL": "GR"}
VIES_URL = "https://ec.europa.eu/taxation_customs/vies/rest-api/ms/{country}/vat/{number}"


def compact(value: str) -> str:
    return re.sub(r"[\s.\-/]", "", value).upper()


def country_of(number: str) -> str | None:
    """The member state a VAT number claims by its prefix, or None if it names none."""
    prefix = compact(number)[:2]
    country = _PREFIX_TO_COUNTRY.get(prefix, prefix)
    return country if country in EU_COUNTRIES else None


def is_valid(number: str) -> bool:
    return country_of(number) is not None and eu_vat.is_valid(number)


def _problem(exc: ValidationError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "its check digits do not match"
    if isinstance(exc, InvalidLength):
        return "it has the wrong number of characters"
    if isinstance(exc, InvalidComponent):
        return "a part of it is not valid"
    return "it is not in that country's format"


def clean(value: Any) -> str:
    """A tax ID as stored: an EU VAT number (one that starts with a member state's prefix)
    is compacted and must be valid; any other tax ID is kept as given."""
    if not isinstance(value, str):
        raise ValueError("must be a string")
    text = value.strip()
    country = country_of(text)
    if country is None:
        return text
    number = compact(text)
    name = Locale("en").territories.get(country, country)
    try:
        eu_vat.validate(number)
    except ValidationError as exc:
        raise ValueError(f"is not a valid VAT number of {name}: {_problem(exc)}") from None
    if settings.VIES_CHECK and vies_registered(number) is False:
        raise ValueError(f"is not registered in VIES, the EU's VAT register, for {name}")
    return number


def vies_registered(number: str, timeout: float = 5.0) -> bool | None:
    """True or False as VIES answers; None when it cannot be reached or does not say."""
    compacted = compact(number)
    url = VIES_URL.format(country=compacted[:2], number=compacted[2:])
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.load(response)
    except (OSError, ValueError):
        return None
    valid = answer.get("isValid", answer.get("valid"))
    return valid if isinstance(valid, bool) else None

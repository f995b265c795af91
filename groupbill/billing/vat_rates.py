"""The EU's standard VAT rates the book starts with, and their changes since 2024. A later
change is added as a new rate from its day (`vat.add_rate`); nothing here is edited for it,
so invoices keep the rate of the day they were made."""

from datetime import date
from decimal import Decimal

_FROM_2024 = date(2024, 1, 1)

STANDARD_RATES: list[tuple[str, Decimal, date]] = [
    *(
        (country, Decimal(rate), _FROM_2024)
        for country, rate in {
            "AT": "20", "BE": "21", "BG": "20", "CY": "19", "CZ": "21", "DE": "19",
            "DK": "25", "EE": "22", "ES": "21", "FI": "24", "FR": "20", "GR": "24",
            "HR": "25", "HU": "27", "IE": "23", "IT": "22", "LT": "21", "LU": "17",
            "LV": "21", "MT": "18", "NL": "21", "PL": "23", "PT": "23", "RO": "19",
            "SE": "25", "SI": "22", "SK": "20",
        }.items()
    ),
    ("FI", Decimal("25.5"), date(2024, 9, 1)),
    ("SK", Decimal("23"), date(2025, 1, 1)),
    ("EE", Decimal("24"), date(2025, 7, 1)),
    ("RO", Decimal("21"), date(2025, 8, 1)),
]  # fmt: skip

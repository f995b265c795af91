"""Request field types that state their limits in the OpenAPI document.

The domain's cleaners decide and word every refusal (web forms and the CLI go through
them too), so these types only add to the schema what the cleaners accept: a request
valid by the schema is then refused only for what the data it names forbids (another
company's group, a date outside the window around today)."""

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt, StrictStr, WithJsonSchema

from groupbill.billing.invoices import MAX_AMOUNT, MAX_QUANTITY
from groupbill.bounds import MAX_LINES
from groupbill.companies.actions import timezone_names
from groupbill.currencies import MINOR_UNITS

# At least one character that is not white space (the cleaners strip, then require).
NOT_BLANK = r"\S"


def integral(value: Any) -> Any:
    # JSON has one number type: 5.0 is the whole number 5 (and valid for "integer").
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _iso_day(value: Any) -> Any:
    # Only "YYYY-MM-DD": pydantic's lax date would take the number 0 as 1970-01-01.
    if not isinstance(value, str | date):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


WholeNumber = Annotated[StrictInt, BeforeValidator(integral)]
Day = Annotated[date, BeforeValidator(_iso_day)]


def limits(**schema):
    """JSON Schema keywords for a field; type-specific ones leave a null alone."""
    return Field(json_schema_extra=schema)


def text_schema(max_length: int, *, required: bool = False) -> dict:
    schema = {"type": "string", "maxLength": max_length}
    return schema | {"minLength": 1, "pattern": NOT_BLANK} if required else schema


def text(max_length: int):
    return Annotated[StrictStr, limits(maxLength=max_length)]


def required_text(max_length: int):
    keywords = text_schema(max_length, required=True)
    del keywords["type"]
    return Annotated[StrictStr, limits(**keywords)]


def never_null(schema: dict, base: Any = StrictStr):
    """A field a body may leave out but not send as null: its cleaner refuses null."""
    return Annotated[base | None, WithJsonSchema(schema)]


def whole_number(minimum: int, maximum: int):
    return Annotated[WholeNumber, limits(minimum=minimum, maximum=maximum)]


def items(minimum: int = 0, maximum: int | None = None):
    """How many items a list may hold; the domain counts them and words the refusal."""
    extra: dict = {"minItems": minimum} if minimum else {}
    if maximum is not None:
        extra["maxItems"] = maximum
    return limits(**extra)


CURRENCY = {"type": "string", "enum": sorted(MINOR_UNITS)}
TIMEZONE = {"type": "string", "enum": sorted(timezone_names())}
CurrencyCode = Annotated[StrictStr, WithJsonSchema(CURRENCY)]
TimeZone = Annotated[StrictStr, WithJsonSchema(TIMEZONE)]
NAME = text_schema(128, required=True)
Name = required_text(128)
BOOLEAN = {"type": "boolean"}
# Minor units taken, applied or refunded: positive, and far inside 64 bits.
PositiveAmount = whole_number(1, MAX_AMOUNT)
# An invoice line: the amount per unit (negative for a discount) and how many units.
LineAmount = whole_number(-MAX_AMOUNT, MAX_AMOUNT)
Quantity = whole_number(1, MAX_QUANTITY)
LINES = items(maximum=MAX_LINES)

"""The contact fields, declared once: the model, forms, API schemas and the
`required_contact_fields` setting all read this table."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email


@dataclass(frozen=True)
class ContactField:
    name: str
    label: str
    max_length: int
    kind: str = "text"  # text | email | country


CONTACT_FIELDS: tuple[ContactField, ...] = (
    ContactField("first_name", "First name", 64),
    ContactField("last_name", "Last name", 64),
    ContactField("company", "Company", 128),
    ContactField("title", "Title", 64),
    ContactField("email", "Email", 254, "email"),
    ContactField("address1", "Address 1", 255),
    ContactField("address2", "Address 2", 255),
    ContactField("city", "City", 128),
    ContactField("state", "State / province", 128),
    ContactField("zip", "Postal code", 32),
    ContactField("country", "Country (ISO code)", 2, "country"),
    ContactField("phone", "Phone", 32),
    ContactField("fax", "Fax", 32),
)
CONTACT_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in CONTACT_FIELDS)
CONTACT_FIELDS_BY_NAME = {f.name: f for f in CONTACT_FIELDS}

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def clean_contact_value(name: str, value: object) -> str:
    """Normalise one contact field; raises ValueError with a user-facing message."""
    spec = CONTACT_FIELDS_BY_NAME[name]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    if "\x00" in value:  # PostgreSQL text cannot hold it
        raise ValueError("must not contain NUL characters")
    value = value.strip()
    if len(value) > spec.max_length:
        raise ValueError(f"must be at most {spec.max_length} characters")
    if not value:
        return ""
    if spec.kind == "email":
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("must be a valid email address") from None
    elif spec.kind == "country":
        value = value.upper()
        if not _COUNTRY.match(value):
            raise ValueError("must be a two-letter ISO 3166 country code, e.g. US or DE")
    return value

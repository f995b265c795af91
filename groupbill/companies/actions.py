"""Company use cases: creation (with its default client group) and edits, audited."""

import functools
import zoneinfo
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from groupbill import validation as v
from groupbill.audit.actions import record, record_changes, wrap
from groupbill.companies.models import Company, RoundingMode
from groupbill.companies.signals import company_created
from groupbill.currencies import clean_currency


@functools.cache
def timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def clean_timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in timezone_names():
        raise ValueError("must be an IANA time zone name, e.g. Europe/Berlin or America/New_York")
    return value


def clean_email_or_blank(value: Any) -> str:
    value = v.text(value, max_length=254)
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("must be a valid email address") from None
    return value


CLEANERS = {
    "name": lambda x: v.text(x, max_length=128, required=True),
    "timezone": clean_timezone,
    "default_currency": clean_currency,
    "notify_email": clean_email_or_blank,
    "rounding_mode": lambda x: v.choice(x, RoundingMode.values),
}


def create_company(data: dict[str, Any], *, actor: str) -> Company:
    """A new company; the `company_created` signal gives it its default client group
    (clients), in the same transaction."""
    cleaned, errors = v.collect(data, CLEANERS)
    if "name" not in data:
        errors.append(v.FieldError("name", "is required"))
    v.raise_if(errors)
    with transaction.atomic():
        company = Company.objects.create(**cleaned)
        record(
            subject=company,
            actor=actor,
            action="company.create",
            new=wrap({f: getattr(company, f) for f in CLEANERS}),
        )
        company_created.send(Company, company=company, actor=actor)
    return company


def update_company(company: Company, changes: dict[str, Any], *, actor: str) -> Company:
    cleaned, errors = v.collect(changes, CLEANERS)
    v.raise_if(errors)
    with transaction.atomic():
        old = {f: getattr(company, f) for f in cleaned}
        for field, value in cleaned.items():
            setattr(company, field, value)
        company.save()
        record_changes(
            subject=company,
            actor=actor,
            action="company.update",
            old=old,
            new=cleaned,
        )
    return company

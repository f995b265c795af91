"""Company use cases: creation (with its default client group) and edits, audited."""

import functools
import zoneinfo
from typing import Any

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from groupbill import validation as v
from groupbill import vat_numbers
from groupbill.audit.actions import record, record_changes, wrap
from groupbill.companies.models import Company, RoundingMode
from groupbill.companies.signals import company_created
from groupbill.currencies import clean_currency
from groupbill.errors import ValidationFailed


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


def clean_country_or_blank(value: Any) -> str:
    value = v.text(value, max_length=2).upper()
    if value and value not in Locale("en").territories:
        raise ValueError("must be a two-letter ISO 3166 country code, e.g. DE or US")
    return value


def clean_vat_id(value: Any) -> str:
    return vat_numbers.clean(v.text(value, max_length=32))


def _text(max_length: int):
    return lambda x: v.text(x, max_length=max_length)


CLEANERS = {
    "name": lambda x: v.text(x, max_length=128, required=True),
    "timezone": clean_timezone,
    "default_currency": clean_currency,
    "notify_email": clean_email_or_blank,
    "rounding_mode": lambda x: v.choice(x, RoundingMode.values),
    # The seller's identity, as invoices print it.
    "legal_name": _text(200),
    "address_line1": _text(200),
    "address_line2": _text(200),
    "postcode": _text(32),
    "city": _text(128),
    "state": _text(128),
    "country": clean_country_or_blank,
    "vat_id": clean_vat_id,
    "registration_number": _text(64),
    "bank_details": _text(2000),
    "charges_eu_vat": v.boolean,
}


def _check_eu_vat(company: dict[str, Any], errors: list[v.FieldError]) -> None:
    """VAT by the EU's rules needs a seller in a member state."""
    country = company.get("country") or ""
    if company.get("charges_eu_vat") and country not in vat_numbers.EU_COUNTRIES:
        where = f"is {country}" if country else "is not set"
        errors.append(v.FieldError(
            "charges_eu_vat", f"needs the company's country to be an EU member state; it {where}"
        ))  # fmt: skip


def create_company(data: dict[str, Any], *, actor: str) -> Company:
    """A new company; the `company_created` signal gives it its default client group
    (clients), in the same transaction."""
    cleaned, errors = v.collect(data, CLEANERS)
    if "name" not in data:
        errors.append(v.FieldError("name", "is required"))
    _check_eu_vat(cleaned, errors)
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
    _check_eu_vat({f: getattr(company, f) for f in CLEANERS} | cleaned, errors)
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


def set_two_factor_required(company: Company, required: bool, *, actor: str) -> Company:
    """An owner makes a second factor mandatory for the company's staff (or not)."""
    with transaction.atomic():
        old = company.two_factor_required
        company.two_factor_required = bool(required)
        company.save(update_fields=["two_factor_required"])
        record_changes(
            subject=company,
            actor=actor,
            action="company.update",
            old={"two_factor_required": old},
            new={"two_factor_required": company.two_factor_required},
        )
    return company


def set_staff_role(company: Company, user, role: str | None, *, actor: str) -> None:
    """Give a staff user a role in the company (None: take them out of it)."""
    from groupbill.companies.models import StaffMembership
    from groupbill.companies.roles import Role

    if role is not None and role not in Role.__members__.values():
        raise ValidationFailed.one("role", "must be owner, billing or support")
    with transaction.atomic():
        current = StaffMembership.objects.filter(company=company, user=user).first()
        old = current.role if current else None
        if role is None:
            StaffMembership.objects.filter(company=company, user=user).delete()
        else:
            StaffMembership.objects.update_or_create(
                company=company, user=user, defaults={"role": role}
            )
        if old != role:
            record(
                subject=company,
                actor=actor,
                action="company.staff_role",
                key=user.get_username(),
                old=wrap(old) if old else None,
                new=wrap(role) if role else None,
            )


def reset_two_factor(company: Company, user, *, actor: str) -> int:
    """An owner takes away a staff member's second factors (authenticator apps and recovery
    codes), say after a lost phone: they sign in with their password alone until they set
    one up again, which a company requiring it asks at their next page. Only a member of
    the company; audited there. Returns how many devices were removed."""
    from django_otp import devices_for_user

    from groupbill.companies.models import StaffMembership

    if not StaffMembership.objects.filter(company=company, user=user).exists():
        raise ValidationFailed.one("user", f"{user.get_username()} is not staff of {company}")
    with transaction.atomic():
        devices = list(devices_for_user(user, confirmed=None))
        for device in devices:
            device.delete()
        if devices:
            record(
                subject=company,
                actor=actor,
                action="company.staff_two_factor_reset",
                key=user.get_username(),
                old=wrap(sorted(d.name for d in devices)),
            )
    return len(devices)

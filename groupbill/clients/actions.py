"""Client groups, clients and contacts: the use cases every interface calls."""

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from groupbill import validation as v
from groupbill import vat_numbers
from groupbill.audit.actions import record, record_changes, wrap
from groupbill.clients import required_fields, signals
from groupbill.clients.contact_fields import CONTACT_FIELD_NAMES, clean_contact_value
from groupbill.clients.models import (
    DEFAULT_GROUP_COLOR,
    Client,
    ClientGroup,
    ClientHistory,
    ClientStatus,
    Contact,
    ContactRole,
)
from groupbill.clients.queries import default_group_id, primary_contact
from groupbill.companies.models import Company
from groupbill.currencies import clean_currency
from groupbill.errors import Conflict, FieldError, ValidationFailed

# --- Client groups ---------------------------------------------------------------------

_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def clean_color(value: Any) -> str:
    if value is None or value == "":
        return DEFAULT_GROUP_COLOR
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        raise ValueError("must be a hex colour like #1E88E5")
    return value.upper()


GROUP_CLEANERS = {
    "name": lambda x: v.text(x, max_length=64, required=True),
    "color": clean_color,
    "description": lambda x: v.text(x, max_length=2000),
}


def _name_taken(company_id: int, name: str, exclude_id: int | None = None) -> bool:
    # Compared in Python: SQLite's LIKE/LOWER fold ASCII only ("Ärzte" vs "ärzte").
    qs = ClientGroup.objects.filter(company_id=company_id)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    folded = name.casefold()
    return any(n.casefold() == folded for n in qs.values_list("name", flat=True))


def _duplicate_name(name: str) -> ValidationFailed:
    return ValidationFailed.one("name", f'a client group named "{name}" already exists')


def _save_group(group: ClientGroup) -> None:
    if _name_taken(group.company_id, group.name, group.pk):
        raise _duplicate_name(group.name)
    try:
        # A savepoint, so a concurrent duplicate leaves the outer transaction usable.
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise _duplicate_name(group.name) from None


def create_group(company: Company, data: dict[str, Any], *, actor: str) -> ClientGroup:
    cleaned, errors = v.collect(data, GROUP_CLEANERS)
    if "name" not in data:
        errors.append(FieldError("name", "is required"))
    v.raise_if(errors)
    group = ClientGroup(company=company, **cleaned)
    with transaction.atomic():
        _save_group(group)
        record(
            subject=group,
            actor=actor,
            action="group.create",
            new=wrap({f: getattr(group, f) for f in GROUP_CLEANERS}),
        )
    return group


def update_group(group: ClientGroup, changes: dict[str, Any], *, actor: str) -> ClientGroup:
    cleaned, errors = v.collect(changes, GROUP_CLEANERS)
    v.raise_if(errors)
    with transaction.atomic():
        old = {f: getattr(group, f) for f in cleaned}
        for field, value in cleaned.items():
            setattr(group, field, value)
        _save_group(group)
        record_changes(
            subject=group,
            actor=actor,
            action="group.update",
            old=old,
            new=cleaned,
        )
    return group


def delete_group(group: ClientGroup, *, actor: str) -> int:
    """Delete a group, moving its clients to the company's default group in the same
    transaction. Returns how many clients moved."""
    with transaction.atomic():
        Company.objects.select_for_update().filter(pk=group.company_id).first()
        default_id = default_group_id(group.company_id)
        if group.pk == default_id:
            raise Conflict(
                f'"{group.name}" is the default client group of {group.company.name} '
                "and cannot be deleted."
            )
        default = ClientGroup.objects.get(pk=default_id)
        client_ids = list(Client.objects.filter(group=group).values_list("pk", flat=True))
        Client.objects.filter(pk__in=client_ids).update(group=default)
        ClientHistory.objects.bulk_create(
            ClientHistory(
                client_id=client_id,
                actor=actor,
                event="group.moved",
                message=f'Moved from group "{group.name}" (deleted) to "{default.name}".',
                data={"from_group": group.name, "to_group_id": default.pk},
            )
            for client_id in client_ids
        )
        record(
            subject=group,
            actor=actor,
            action="group.delete",
            old=wrap({f: getattr(group, f) for f in GROUP_CLEANERS}),
            new=wrap({"clients_moved_to": default.name, "client_count": len(client_ids)}),
        )
        group.delete()
    return len(client_ids)


# --- Contacts --------------------------------------------------------------------------


def _required_fields(group_id: int) -> tuple[str, list[str]]:
    group = ClientGroup.objects.only("name").get(pk=group_id)
    return group.name, required_fields.of_group(group_id)


def _clean_contact_fields(data: dict[str, Any], errors: list[FieldError]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name in CONTACT_FIELD_NAMES:
        if name in data:
            try:
                cleaned[name] = clean_contact_value(name, data[name])
            except ValueError as exc:
                errors.append(FieldError(name, str(exc)))
    return cleaned


def _check_required_on_add(group_id: int, fields: dict[str, str], errors: list[FieldError]) -> None:
    group_name, required = _required_fields(group_id)
    for name in required:
        if not fields.get(name) and not any(e.field == name for e in errors):
            errors.append(FieldError(name, f'is required for contacts of group "{group_name}"'))


def _clean_role(value: Any) -> str:
    return v.choice(value, ContactRole.values)


def add_contact(client: Client, data: dict[str, Any], *, actor: str) -> Contact:
    """Add a contact; the group's required contact fields must be filled."""
    errors: list[FieldError] = []
    unknown = set(data) - set(CONTACT_FIELD_NAMES) - {"role"}
    errors += [FieldError(f, "unknown field") for f in sorted(unknown)]
    role = None
    try:
        role = _clean_role(data.get("role", ContactRole.OTHER))
    except ValueError as exc:
        errors.append(FieldError("role", str(exc)))
    fields = _clean_contact_fields(data, errors)
    _check_required_on_add(client.group_id, fields, errors)
    if role == ContactRole.PRIMARY and client.contacts.filter(role=ContactRole.PRIMARY).exists():
        errors.append(FieldError("role", "this client already has a primary contact"))
    v.raise_if(errors)
    with transaction.atomic():
        contact = Contact.objects.create(client=client, role=role, **fields)
        _history(client, actor, "contact.add", f"Added {role} contact {contact.display_name}.")
    return contact


def update_contact(contact: Contact, changes: dict[str, Any], *, actor: str) -> Contact:
    """Edit a contact. A field the group requires may not be emptied; a field that was
    already empty (the rule came later) may stay empty. A change to the primary contact is
    a change to the client (clients.signals.client_changed)."""
    with transaction.atomic():
        changed = _update_contact(contact, changes, actor)
        if changed and contact.role == ContactRole.PRIMARY:
            signals.client_changed.send(Client, client=contact.client, fields=sorted(changed))
    return contact


def _update_contact(contact: Contact, changes: dict[str, Any], actor: str) -> list[str]:
    """The names of the fields that changed."""
    errors: list[FieldError] = []
    unknown = set(changes) - set(CONTACT_FIELD_NAMES)
    errors += [FieldError(f, "unknown field") for f in sorted(unknown)]
    fields = _clean_contact_fields(changes, errors)
    client = contact.client
    group_name, required = _required_fields(client.group_id)
    for name in required:
        if name in fields and not fields[name] and getattr(contact, name):
            errors.append(FieldError(name, f'is required for contacts of group "{group_name}"'))
    v.raise_if(errors)
    changed = {k: val for k, val in fields.items() if getattr(contact, k) != val}
    if changed:
        with transaction.atomic():
            for name, value in changed.items():
                setattr(contact, name, value)
            contact.save()
            _history(
                client,
                actor,
                "contact.update",
                f"Updated contact {contact.display_name}: {', '.join(sorted(changed))}.",
            )
    return list(changed)


# --- Clients ---------------------------------------------------------------------------

LANGUAGE_PATTERN = r"^[a-z]{2,3}([_-][A-Za-z]{2})?$"
_LANGUAGE = re.compile(LANGUAGE_PATTERN)


def clean_language(value: Any) -> str:
    if not isinstance(value, str) or not _LANGUAGE.fullmatch(value):
        raise ValueError("must be a language code such as en, de or pt_BR")
    return value


CLIENT_CLEANERS = {
    "status": lambda x: v.choice(x, ClientStatus.values),
    "autosuspend": v.boolean,
    "suspension_delayed_until": v.optional_date,
    "tax_exempt": v.boolean,
    "tax_id": lambda x: vat_numbers.clean(v.text(x, max_length=64)),
    "default_currency": clean_currency,
    "language": clean_language,
}
CLIENT_ATTRIBUTES = tuple(CLIENT_CLEANERS)


def _history(client: Client, actor: str, event: str, message: str, **data: Any) -> None:
    """The client's history entry, and the same change in the audit log."""
    ClientHistory.objects.create(
        client=client, actor=actor, event=event, message=message, data=data
    )
    record(subject=client, actor=actor, action=event, new=wrap({"message": message, **data}))


def _split_client_data(data: dict[str, Any], errors: list[FieldError]):
    attributes = {k: val for k, val in data.items() if k in CLIENT_CLEANERS}
    contact = {k: val for k, val in data.items() if k in CONTACT_FIELD_NAMES}
    unknown = set(data) - set(attributes) - set(contact) - {"group_id"}
    errors += [FieldError(f, "unknown field") for f in sorted(unknown)]
    cleaned, attr_errors = v.collect(attributes, CLIENT_CLEANERS)
    errors += attr_errors
    return cleaned, _clean_contact_fields(contact, errors)


def _group_of_company(company: Company, group_id: Any, errors: list[FieldError]) -> int | None:
    if group_id is None:
        return default_group_id(company.pk)
    if v.parse_id(group_id) is None:
        errors.append(FieldError("group_id", "must be a client group id"))
        return None
    if not ClientGroup.objects.filter(pk=group_id, company=company).exists():
        errors.append(FieldError("group_id", f"no client group {group_id} in this company"))
        return None
    return group_id


# A client is someone: at least one of these names them on every list and message.
IDENTIFYING_FIELDS = ("first_name", "last_name", "company", "email")
UNNAMED = "Give a name, a company or an email address: the client must be someone."


def _check_named(contact_fields: dict[str, Any], errors: list[FieldError]) -> None:
    named = any(contact_fields.get(f) for f in IDENTIFYING_FIELDS)
    if not named and not any(e.field in IDENTIFYING_FIELDS for e in errors):
        errors.append(FieldError("first_name", UNNAMED))


def create_client(company: Company, data: dict[str, Any], *, actor: str) -> Client:
    """A client with its primary contact (the contact fields are flat in `data`), named
    by at least a first or last name, a company or an email address."""
    errors: list[FieldError] = []
    group_id = _group_of_company(company, data.get("group_id"), errors)
    attributes, contact_fields = _split_client_data(data, errors)
    if group_id is not None:
        _check_required_on_add(group_id, contact_fields, errors)
    _check_named(contact_fields, errors)
    v.raise_if(errors)
    attributes.setdefault("default_currency", company.default_currency)
    with transaction.atomic():
        client = Client.objects.create(company=company, group_id=group_id, **attributes)
        contact = Contact.objects.create(client=client, role=ContactRole.PRIMARY, **contact_fields)
        _history(client, actor, "client.create", f"Client created ({contact.display_name}).")
        signals.client_created.send(Client, client=client)
    return client


def update_client(client: Client, changes: dict[str, Any], *, actor: str) -> Client:
    """Edit attributes, move to another group, or edit the primary contact's fields."""
    errors: list[FieldError] = []
    new_group_id = client.group_id
    if "group_id" in changes:
        new_group_id = _group_of_company(client.company, changes["group_id"], errors)
    attributes, contact_fields = _split_client_data(changes, errors)
    v.raise_if(errors)
    moved = new_group_id != client.group_id
    with transaction.atomic():
        if moved:
            old_group, new_group = client.group, ClientGroup.objects.get(pk=new_group_id)
            client.group = new_group
            _history(
                client,
                actor,
                "group.change",
                f'Moved from group "{old_group.name}" to "{new_group.name}".',
                from_group_id=old_group.pk,
                to_group_id=new_group.pk,
            )
        changed = {k: val for k, val in attributes.items() if getattr(client, k) != val}
        for field, value in changed.items():
            old = getattr(client, field)
            setattr(client, field, value)
            _history(
                client,
                actor,
                f"client.{field}",
                f"{field.replace('_', ' ').capitalize()} changed from {old!s} to {value!s}.",
            )
        client.save()
        fields = sorted(changed) + (["group_id"] if moved else [])
        if contact_fields:
            contact = primary_contact(client)
            if contact is None:
                raise ValidationFailed.one("first_name", "this client has no primary contact")
            named: list[FieldError] = []
            _check_named({f: getattr(contact, f) for f in IDENTIFYING_FIELDS} | contact_fields,
                         named)  # fmt: skip
            v.raise_if(named)
            fields += sorted(_update_contact(contact, contact_fields, actor))
        if fields:
            signals.client_changed.send(Client, client=client, fields=fields)
    return client


def delete_client(client: Client, *, actor: str) -> None:
    try:
        with transaction.atomic():
            record(subject=client, actor=actor, action="client.delete")
            client.delete()
    except ProtectedError:
        raise Conflict(
            f"Client {client.pk} has invoices and cannot be deleted; make it inactive instead."
        ) from None

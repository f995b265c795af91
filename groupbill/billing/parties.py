"""Who sells and who buys, as an invoice prints them: taken when it is issued and kept on
it, so a later change of address, name or VAT ID never rewrites an invoice."""

from typing import Any

from groupbill.clients.models import Client, Contact, ContactRole
from groupbill.companies.models import Company


def _lines(*parts: str) -> list[str]:
    return [p for p in parts if p]


def _address(line1: str, line2: str, postcode: str, city: str, state: str) -> list[str]:
    """Street lines, then "postcode city, state" (the country is printed by name)."""
    return _lines(line1, line2, ", ".join(_lines(" ".join(_lines(postcode, city)), state)))


def seller_of(company: Company) -> dict[str, Any]:
    return {
        "name": company.legal_name or company.name,
        "address": _address(
            company.address_line1,
            company.address_line2,
            company.postcode,
            company.city,
            company.state,
        ),
        "country": company.country,
        "vat_id": company.vat_id,
        "registration_number": company.registration_number,
        "bank_details": company.bank_details,
        "email": company.notify_email,
    }


# What a buyer is made of: their primary contact's fields.
_CONTACT_FIELDS = ("client_id", "first_name", "last_name", "company", "email", "address1",
                   "address2", "zip", "city", "state", "country")  # fmt: skip


def _buyer(contact: dict[str, Any] | None, tax_id: str) -> dict[str, Any]:
    if contact is None:
        return {"name": "", "address": [], "country": "", "vat_id": tax_id, "email": ""}
    person = f"{contact['first_name']} {contact['last_name']}".strip()
    return {
        "name": contact["company"] or person or contact["email"],
        "attention": person if contact["company"] else "",
        "address": _address(
            contact["address1"],
            contact["address2"],
            contact["zip"],
            contact["city"],
            contact["state"],
        ),
        "country": contact["country"],
        "vat_id": tax_id,
        "email": contact["email"],
    }


def of_invoice(invoice) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seller and buyer of an invoice: as issued, or as they are now for a draft (or an
    invoice issued before parties were kept)."""
    seller = invoice.seller or seller_of(invoice.company)
    buyer = invoice.buyer or buyers_of([invoice.client_id])[invoice.client_id]
    return seller, buyer


# Each client's primary contact (client id -> its fields), and (tax id, tax-exempt).
Known = tuple[dict[int, dict[str, Any]], dict[int, tuple[str, bool]]]


def read(client_ids) -> Known:
    """What issuing to these clients needs of them, as buyers and for their taxes (the
    place is the primary contact's): two queries."""
    ids = list(client_ids)
    primary = Contact.objects.filter(client_id__one_of=ids, role=ContactRole.PRIMARY)
    contacts = {c["client_id"]: c for c in primary.values(*_CONTACT_FIELDS)}
    clients = Client.objects.filter(pk__one_of=ids).values_list("pk", "tax_id", "tax_exempt")
    return contacts, {pk: (tax_id, exempt) for pk, tax_id, exempt in clients}


def buyers_of(client_ids, known: Known | None = None) -> dict[int, dict[str, Any]]:
    """Each client as a buyer (the primary contact's name and address): two queries, or
    none with what `read` returned for them."""
    ids = list(client_ids)
    contacts, clients = known or read(ids)
    return {pk: _buyer(contacts.get(pk), clients.get(pk, ("", False))[0]) for pk in ids}

"""Reads about groups and clients that several callers share."""

from django.db.models import (
    CharField,
    Count,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Concat, Lower

from groupbill.clients.models import Client, ClientGroup, Contact, ContactRole
from groupbill.errors import NotFound


def default_group_id(company_id: int) -> int | None:
    """The company's default group: its first group, by id."""
    return ClientGroup.objects.filter(company_id=company_id).aggregate(first=Min("pk"))["first"]


def groups_with_counts(queryset: QuerySet[ClientGroup] | None = None) -> QuerySet[ClientGroup]:
    """Groups annotated with `client_count` and `default_id` (their company's first group)."""
    queryset = ClientGroup.objects.all() if queryset is None else queryset
    first_of_company = (
        ClientGroup.objects.filter(company_id=OuterRef("company_id"))
        .order_by("pk")
        .values("pk")[:1]
    )
    return queryset.annotate(
        client_count=Count("clients", distinct=True), default_id=Subquery(first_of_company)
    ).select_related("company")


def get_group(group_id: int) -> ClientGroup:
    group = groups_with_counts(ClientGroup.objects.filter(pk=group_id)).first()
    if group is None:
        raise NotFound(f"Client group {group_id} does not exist.")
    return group


def clients_with_primary(queryset: QuerySet[Client] | None = None) -> QuerySet[Client]:
    """Clients with their primary contact prefetched as `primary_contacts` (0 or 1 item)."""
    queryset = Client.objects.all() if queryset is None else queryset
    return queryset.select_related("group", "company").prefetch_related(primary_contacts())


def primary_contacts(prefix: str = "") -> Prefetch:
    """The primary contact of the client (at `prefix`, e.g. "client__") prefetched as the
    client's `primary_contacts` (0 or 1 item)."""
    return Prefetch(
        f"{prefix}contacts",
        queryset=Contact.objects.filter(role=ContactRole.PRIMARY),
        to_attr="primary_contacts",
    )


def client_sort() -> Subquery:
    """The name of a row's client (its `client_id`) as lists sort it: its primary
    contact's last, first name, company."""
    names = Contact.objects.filter(client_id=OuterRef("client_id"), role=ContactRole.PRIMARY)
    key = Concat(Lower("last_name"), Value(" "), Lower("first_name"), Value(" "),
                 Lower("company"), output_field=CharField())  # fmt: skip
    return Subquery(names.values_list(key)[:1])


def get_client(client_id: int) -> Client:
    client = clients_with_primary(Client.objects.filter(pk=client_id)).first()
    if client is None:
        raise NotFound(f"Client {client_id} does not exist.")
    return client


def get_contact(contact_id: int) -> Contact:
    contact = Contact.objects.select_related("client").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


def primary_contact(client: Client) -> Contact | None:
    contacts = getattr(client, "primary_contacts", None)
    if contacts is None:
        return client.contacts.filter(role=ContactRole.PRIMARY).first()
    return contacts[0] if contacts else None


SEARCH_LIMIT = 20


def search_clients(
    text: str, limit: int = SEARCH_LIMIT, company_ids: list[int] | None = None
) -> list[Client]:
    """Clients one of whose contacts matches every word of `text` in first or last name,
    company or email, or whose tax ID contains `text` (spaces ignored), or whose id it is
    ("#12"); with their primary contact; of these companies only (None: every company).
    One query for the matches, one for the contacts."""
    text = text.strip()
    words = text.split()
    if not words or (len(text) < 2 and not text.isdigit()):
        return []
    contact_match = Q()
    for word in words[:5]:
        contact_match &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(company__icontains=word)
            | Q(email__icontains=word)
        )
    found = Q(pk__in=Contact.objects.filter(contact_match).values("client_id"))
    compact = "".join(words)
    if len(compact) >= 3:
        found |= Q(tax_id__icontains=compact)
    if text.lstrip("#").isdigit() and len(text) <= 18:
        found |= Q(pk=int(text.lstrip("#")))
    queryset = Client.objects.filter(found)
    if company_ids is not None:
        queryset = queryset.filter(company_id__in=company_ids)
    return list(clients_with_primary(queryset).order_by("pk")[: limit + 1])

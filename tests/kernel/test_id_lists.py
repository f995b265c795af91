"""`__one_of`: filtering by many ids with one parameter finds exactly what `__in` finds,
on both databases, for primary and foreign keys, empty lists and lists longer than
SQLite's old limit of 999 bound parameters."""

import pytest

from groupbill.clients.models import Client, Contact


@pytest.fixture
def clients(make_client):
    return [make_client(last_name=f"Client {n}") for n in range(5)]


def test_one_of_finds_what_in_finds(clients):
    wanted = [clients[1].pk, clients[3].pk]
    assert list(Client.objects.filter(pk__one_of=wanted).values_list("pk", flat=True)) == wanted
    contacts = Contact.objects.filter(client_id__one_of=wanted).values_list("client_id", flat=True)
    assert sorted(contacts) == sorted(
        Contact.objects.filter(client_id__in=wanted).values_list("client_id", flat=True)
    )


def test_an_empty_list_finds_nothing(clients):
    assert not Client.objects.filter(pk__one_of=[]).exists()


def test_thousands_of_ids_are_one_parameter(clients, django_assert_num_queries):
    ids = [c.pk for c in clients] + list(range(10**6, 10**6 + 5000))
    with django_assert_num_queries(1):
        found = set(Client.objects.filter(pk__one_of=ids).values_list("pk", flat=True))
    assert found == {c.pk for c in clients}


def test_only_ids_are_taken(clients):
    with pytest.raises(ValueError):
        list(Client.objects.filter(pk__one_of=["1; DROP TABLE clients_client"]))

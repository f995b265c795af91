"""Portal pages read a client's rows set-based: the number of queries a page makes does not
grow with the client's services, invoices, payments or contacts."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from groupbill.billing import payments
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients.actions import add_contact
from groupbill.portal.actions import add_card
from groupbill.services import actions as services
from tests.conftest import ACTOR, portal_session

PAGES = ["/portal/", "/portal/services/", "/portal/invoices/", "/portal/payment-methods/",
         "/portal/contacts/"]  # fmt: skip


def grow(client, pricing, addon, n: int) -> None:
    """n more services (each with an addon), paid invoices, cards and contacts."""
    for i in range(n):
        service = services.add_service(client, pricing=pricing, start_on=date(2026, 1, 10),
                                       actor=ACTOR)  # fmt: skip
        payments.pay_invoice(service.first_invoice, amount=service.first_invoice.total,
                             actor=ACTOR)  # fmt: skip
        services.provision(service, actor=ACTOR)
        services.add_service(client, pricing=addon, start_on=date(2026, 1, 20), actor=ACTOR,
                             parent=service)  # fmt: skip
        add_card(client, {"number": "4242424242424242", "label": f"card {i}"}, actor=ACTOR)
        add_contact(client, {"role": "billing", "first_name": f"B{i}"}, actor=ACTOR)


def queries(http, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_page_queries_do_not_grow_with_the_clients_rows(company, make_client):
    basic = Package.objects.create(company=company, name="Basic")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(basic)
    pricing = PackagePrice.objects.create(package=basic, unit="month", count=1, currency="EUR",
                                          price=1000)  # fmt: skip
    addon = PackagePrice.objects.create(package=backup, unit="month", count=1, currency="EUR",
                                        price=500)  # fmt: skip
    ada = make_client()
    http = portal_session(ada)
    grow(ada, pricing, addon, 1)
    small = {url: queries(http, url) for url in PAGES}
    service = ada.services.filter(parent=None).first()
    detail = [f"/portal/services/{service.pk}/", f"/portal/invoices/{ada.invoices.first().pk}/"]
    small.update({url: queries(http, url) for url in detail})
    grow(ada, pricing, addon, 6)
    large = {url: queries(http, url) for url in PAGES + detail}
    assert large == small

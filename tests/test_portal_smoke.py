from datetime import date

import pytest

from groupbill.catalog.models import Package, PackagePrice
from groupbill.services import actions as services
from groupbill.settings_catalog.actions import set_group_setting
from tests.conftest import ACTOR, portal_session


@pytest.fixture
def shop(company):
    basic = Package.objects.create(company=company, name="Basic")
    pro = Package.objects.create(company=company, name="Pro")
    backup = Package.objects.create(company=company, name="Backup")
    backup.addon_of.add(basic)
    return {
        "basic": PackagePrice.objects.create(package=basic, unit="month", count=1,
                                             currency="EUR", price=1000),
        "basic_year": PackagePrice.objects.create(package=basic, unit="year", count=1,
                                                  currency="EUR", price=10000),
        "pro": PackagePrice.objects.create(package=pro, unit="month", count=1, currency="EUR",
                                           price=3000),
        "backup": PackagePrice.objects.create(package=backup, unit="month", count=1,
                                              currency="EUR", price=500),
    }


def test_pages_render(make_client, group, shop):
    for key in ("client_can_cancel_services", "client_can_change_package", "client_can_change_term"):
        set_group_setting(group, key, True, actor=ACTOR)
    ada = make_client(group=group)
    service = services.add_service(ada, pricing=shop["basic"], start_on=date.today(), actor=ACTOR)
    services.provision(service, actor=ACTOR)
    http = portal_session(ada)
    for url in ["/portal/", "/portal/services/", f"/portal/services/{service.pk}/",
                "/portal/invoices/", f"/portal/invoices/{service.first_invoice.pk}/",
                "/portal/payment-methods/", "/portal/contacts/", "/portal/contacts/add/",
                "/portal/profile/", f"/portal/services/{service.pk}/cancel/?when=now",
                f"/portal/services/{service.pk}/change-package/?pricing={shop['pro'].pk}",
                f"/portal/services/{service.pk}/change-term/?pricing={shop['basic_year'].pk}",
                f"/portal/services/{service.pk}/addons/order/?pricing={shop['backup'].pk}"]:
        r = http.get(url)
        assert r.status_code == 200, (url, r.content[:3000])
        print(url, r.content.decode()[-1500:])

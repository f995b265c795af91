"""Who may do what in the client portal: every portal route x every principal.

The principals are the signed-in client on their own object ("own"), the same client aimed at
another client's object ("other", once for a client of the same company and once for a client
of another company), a signed-in staff user without a portal session ("staff") and nobody
("anon"). Another client's object answers 404 exactly like an id that does not exist, shows
none of its data, and is left unchanged by a POST. Staff and anonymous visitors are sent to
the portal's sign-in page with the page they asked for as `next`.

A further column is the group's permission: a client whose group forbids an action gets 403
with the reason, for the page and for a direct POST, and nothing changes.
"""

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from groupbill.billing import invoices as billing_invoices
from groupbill.billing.gateways.stripe import ACTION_MESSAGE
from groupbill.billing.invoices import NewLine
from groupbill.billing.models import Invoice, InvoiceSequence, Transaction
from groupbill.catalog.models import Package, PackagePrice
from groupbill.clients import actions as clients
from groupbill.clients.models import Client, Contact
from groupbill.companies.actions import create_company
from groupbill.companies.queries import company_today
from groupbill.portal import accounts
from groupbill.portal import actions as portal_actions
from groupbill.services import actions as services
from groupbill.services.models import Service, ServiceChange
from groupbill.settings_catalog.actions import set_group_setting
from groupbill.settings_catalog.effective import ClientSettings
from tests.conftest import ACTOR, PORTAL_PASSWORD, portal_account, portal_session, sign_in

LOGIN_PATH = "/portal/login/"
FORBIDDEN_TEXT = "Your account does not allow you to"

GATE_SETTINGS = (
    "client_can_cancel_services",
    "client_can_change_term",
    "client_can_change_package",
    "client_can_create_addons",
    "client_can_set_invoice_method",
    "show_tax_id_field",
)


# --- The world: three clients, each with one of everything -------------------------------


def card_number(last4: str) -> str:
    """A Luhn-valid 16-digit test card number ending in `last4`."""
    for check_position in range(10):
        number = f"4000000000{check_position}0" + last4
        digits = [int(c) for c in reversed(number)]
        total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
                    for i, d in enumerate(digits))  # fmt: skip
        if total % 10 == 0:
            return number
    raise AssertionError(f"no Luhn-valid number ends in {last4}")


@dataclass
class World:
    """One client and the objects the portal routes act on, with strings that only this
    client's pages would show."""

    client: Client
    service: Service  # active, the target of the service actions
    invoice: Invoice  # open
    card: Any  # the auto-debit card
    spare: Any  # a second card, not auto-debit (target of "use for automatic payment")
    contact: Contact  # a billing contact
    term: PackagePrice  # a term the service may change to
    bigger: PackagePrice  # a package the service may change to
    addon: PackagePrice  # an addon the service may order
    attempt: Any  # a Stripe payment waiting for 3-D Secure (Stripe is not configured here)
    credit_note: Any  # of a second invoice, voided
    markers: dict[str, str] = field(default_factory=dict)

    def ids(self) -> dict[str, int]:
        return {"service": self.service.pk, "invoice": self.invoice.pk,
                "account": self.spare.pk, "contact": self.contact.pk,
                "payment": self.attempt.pk, "credit_note": self.credit_note.pk}  # fmt: skip


def _price(package: Package, unit: str, amount: int, count: int = 1) -> PackagePrice:
    return PackagePrice.objects.create(package=package, unit=unit, count=count, currency="EUR",
                                       price=amount)  # fmt: skip


def build_world(company, group, name: str, card_last4: str, spare_last4: str,
                first_number: int | None = None, months: int = 1) -> World:  # fmt: skip
    """`months`: the term of the service and its package choices; clients of one company
    with different terms are not offered each other's packages (the catalog is shared, so
    an offered package name would otherwise look like a leak)."""
    # Distinct invoice numbers across the companies, so "Invoice 9001" can only be Cordelia's.
    if first_number is not None:
        InvoiceSequence.objects.update_or_create(
            company=company, defaults={"next_number": first_number}
        )
    hosting = Package.objects.create(company=company, name=f"{name} Hosting")
    bigger = Package.objects.create(company=company, name=f"{name} Hosting XL")
    backup = Package.objects.create(company=company, name=f"{name} Backup")
    backup.addon_of.add(hosting)
    month, year = _price(hosting, "month", 1000, months), _price(hosting, "year", 10000)
    client = clients.create_client(
        company,
        {"first_name": name, "last_name": "Client", "email": f"{name.lower()}@example.com",
         "group_id": group.pk},
        actor=ACTOR,
    )  # fmt: skip
    service = services.add_service(client, pricing=month, start_on=company_today(company),
                                   actor=ACTOR)  # fmt: skip
    services.provision(service, actor=ACTOR)
    service.refresh_from_db()
    card = portal_actions.add_card(
        client, {"number": card_number(card_last4), "is_autodebit": True}, actor=ACTOR
    )
    spare = portal_actions.add_card(client, {"number": card_number(spare_last4)}, actor=ACTOR)
    contact = clients.add_contact(
        client,
        {"role": "billing", "first_name": f"{name}ina", "last_name": "Billing",
         "email": f"billing.{name.lower()}@example.com"},
        actor=ACTOR,
    )  # fmt: skip
    invoice = Invoice.objects.get(pk=service.first_invoice.pk)
    assert invoice.status == "open" and invoice.number
    attempt = Transaction.objects.create(
        company_id=client.company_id, client=client, kind="payment", status="pending",
        currency="EUR", amount=500, method="stripe", reference=f"pi_{name}", actor=ACTOR,
        note=ACTION_MESSAGE,
    )  # fmt: skip
    extra = billing_invoices.create_invoice(client, [NewLine("Extra work", 500)], actor=ACTOR)
    billing_invoices.issue_invoice(extra, issued_on=company_today(company), actor=ACTOR)
    billing_invoices.void_invoice(extra, actor=ACTOR, reason="not wanted")
    return World(
        attempt=attempt,
        credit_note=extra.credit_notes.get(),
        client=client, service=service, invoice=invoice, card=card, spare=spare,
        contact=contact, term=year, bigger=_price(bigger, "month", 3000, months),
        addon=_price(backup, "month", 500),
        markers={
            "service": f"{name} Hosting",
            "invoice": f"Invoice {invoice.number}",
            "card": f"ending {card_last4}",
            "spare": f"ending {spare_last4}",
            "contact": f"{name}ina Billing",
            "email": f"billing.{name.lower()}@example.com",
        },
    )  # fmt: skip


def allow_everything(group) -> None:
    for key in GATE_SETTINGS:
        set_group_setting(group, key, True, actor=ACTOR)
    set_group_setting(group, "delivery_methods", ["email", "paper"], actor=ACTOR)


@pytest.fixture
def worlds(company, group):
    """own: Ada; other_same: Bartholomew (same company and group); other_company: Cordelia.
    Every group allows every portal action, so a refusal can only come from ownership."""
    allow_everything(group)
    other_company = create_company(
        {"name": "Rival Hosting", "timezone": "Europe/Berlin", "default_currency": "EUR"},
        actor=ACTOR,
    )
    rival_group = other_company.client_groups.order_by("pk").first()
    allow_everything(rival_group)
    return {
        "own": build_world(company, group, "Ada", "4242", "4444"),
        "other_same": build_world(company, group, "Bartholomew", "1881", "3131", 5001, 3),
        "other_company": build_world(other_company, rival_group, "Cordelia", "7117", "5995", 9001),
    }


def snapshot(client: Client) -> dict[str, Any]:
    """Everything a portal action could change for a client."""
    client = Client.objects.get(pk=client.pk)
    return {
        "client": (client.status, client.tax_id, client.language, client.group_id),
        "invoice_method": ClientSettings.of(client.pk).value("invoice_method"),
        "services": list(
            Service.objects.filter(client=client)
            .order_by("pk")
            .values_list("pk", "status", "package_id", "pricing_id", "cancel_at", "parent_id")
        ),
        "changes": list(
            ServiceChange.objects.filter(service__client=client)
            .order_by("pk")
            .values_list("pk", "status", "new")
        ),
        "invoices": list(
            client.invoices.order_by("pk").values_list("pk", "status", "total", "amount_paid")
        ),
        "transactions": list(
            client.transactions.order_by("pk").values_list("pk", "kind", "status", "amount")
        ),
        "accounts": list(
            client.payment_accounts.order_by("pk").values_list(
                "pk", "is_autodebit", "autodebit_disabled", "last4", "label"
            )
        ),
        "contacts": list(client.contacts.order_by("pk").values()),
    }


# --- The matrix ---------------------------------------------------------------------------

L = "login"  # 302 to /portal/login/?next=<the page asked for>


def _unmasked(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"csrf", page)


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    obj: str | None  # which of the target client's objects is in the URL
    own: int
    other: int  # 404 for another client's object; 200/302 for own-only pages (isolation)
    staff: int | str  # L throughout: staff are not clients
    anon: int | str
    data: Any = None  # (target World, signed-in World) -> GET query or POST body
    shows: tuple[str, ...] = ()  # markers the owner's page shows (a leak would show them)
    to: str | None = None  # where a successful POST lands: route name, same object kind

    def __str__(self) -> str:
        return f"{self.name}-{self.method}"


def _cancel(w, me):
    return {"when": "now", "reason": "moving"}


def _term(w, me):
    return {"pricing": w.term.pk}


def _bigger(w, me):
    return {"pricing": w.bigger.pk}


def _addon(w, me):
    return {"pricing": w.addon.pk}


def _pay(w, me):
    # The signed-in client's own card: only the invoice's owner decides.
    return {"method": "account", "account": me.card.pk}


def _new_card(w, me):
    return {"number": card_number("2424"), "expiry": "12/35", "label": "Mine"}


def _contact(w, me):
    return {"role": "other", "first_name": "Nina", "last_name": "New", "email": "nina@example.com"}


def _rename(w, me):
    return {"first_name": "Renamed", "last_name": "Person", "email": "renamed@example.com"}


def _profile(w, me):
    return {"form": "profile", "language": "de", "tax_id": "DE136695976", "invoice_method": "paper"}


S, INV, A, C, P, CN = "service", "invoice", "account", "contact", "payment", "credit_note"
MATRIX = [
    #   route                     method  object own  other staff anon
    Row("dashboard",              "GET",  None, 200, 200,  L,    L, shows=("service", "invoice")),
    Row("service_list",           "GET",  None, 200, 200,  L,    L, shows=("service",)),
    Row("service_detail",         "GET",  S,    200, 404,  L,    L, shows=("service", "invoice")),
    Row("service_cancel",         "GET",  S,    200, 404,  L,    L, _cancel, ("service",)),
    Row("service_cancel",         "POST", S,    302, 404,  L,    L, _cancel, to="service_detail"),
    Row("service_change_term",    "GET",  S,    200, 404,  L,    L, _term, ("service",)),
    Row("service_change_term",    "POST", S,    302, 404,  L,    L, _term, to="service_detail"),
    Row("service_change_package", "GET",  S,    200, 404,  L,    L, _bigger, ("service",)),
    Row("service_change_package", "POST", S,    302, 404,  L,    L, _bigger, to="service_detail"),
    Row("service_order_addon",    "GET",  S,    200, 404,  L,    L, _addon, ("service",)),
    Row("service_order_addon",    "POST", S,    302, 404,  L,    L, _addon, to="service_detail"),
    Row("invoice_list",           "GET",  None, 200, 200,  L,    L, shows=("invoice",)),
    Row("invoice_detail",         "GET",  INV,  200, 404,  L,    L, shows=("invoice", "card")),
    Row("invoice_pdf",            "GET",  INV,  200, 404,  L,    L),
    Row("credit_note_pdf",        "GET",  CN,   200, 404,  L,    L),
    Row("invoice_pay",            "GET",  INV,  405, 405,  L,    L),
    Row("invoice_pay",            "POST", INV,  302, 404,  L,    L, _pay, to="invoice_detail"),
    Row("account_list",           "GET",  None, 200, 200,  L,    L, shows=("card", "spare")),
    Row("account_add",            "GET",  None, 302, 302,  L,    L),  # no Stripe: the list
    Row("account_add_stripe",     "GET",  None, 405, 405,  L,    L),
    Row("payment_authenticate",   "GET",  P,    409, 404,  L,    L),  # no Stripe to ask
    Row("account_add",            "POST", None, 302, 302,  L,    L, _new_card, to="account_list"),
    Row("account_autodebit",      "GET",  A,    405, 405,  L,    L),
    Row("account_autodebit",      "POST", A,    302, 404,  L,    L, to="account_list"),
    Row("account_remove",         "GET",  A,    405, 405,  L,    L),
    Row("account_remove",         "POST", A,    302, 404,  L,    L, to="account_list"),
    Row("contact_list",           "GET",  None, 200, 200,  L,    L, shows=("contact", "email")),
    Row("contact_add",            "GET",  None, 200, 200,  L,    L),
    Row("contact_add",            "POST", None, 302, 302,  L,    L, _contact, to="contact_list"),
    Row("contact_edit",           "GET",  C,    200, 404,  L,    L, shows=("contact", "email")),
    Row("contact_edit",           "POST", C,    302, 404,  L,    L, _rename, to="contact_list"),
    Row("profile",                "GET",  None, 200, 200,  L,    L),
    Row("profile",                "POST", None, 302, 302,  L,    L, _profile, to="profile"),
]  # fmt: skip
PRINCIPALS = ["own", "other_same", "other_company", "staff", "anon"]
OTHERS = ("other_same", "other_company")


def test_the_matrix_covers_every_portal_route():
    from groupbill.portal.urls import urlpatterns

    own_tests = {"login", "logout", "reset_request", "reset_confirm"}
    routes = {p.name for p in urlpatterns} - own_tests
    assert {row.name for row in MATRIX} == routes
    assert {row.name for row in MATRIX if row.method == "GET"} == routes  # GET on every one
    assert len({(row.name, row.method) for row in MATRIX}) == len(MATRIX)
    for row in MATRIX:  # an object in the URL exactly when the route takes an id
        assert (row.obj is not None) == ("<int:" in str(_pattern(row.name)))


def _pattern(name: str):
    from groupbill.portal.urls import urlpatterns

    return next(p.pattern for p in urlpatterns if p.name == name)


def url_of(row: Row, world: World, object_id: int | None = None) -> str:
    if row.obj is None:
        return reverse(f"portal:{row.name}")
    key = {"service": "service_id", "invoice": "invoice_id", "account": "account_id",
           "contact": "contact_id", "payment": "attempt_id",
           "credit_note": "credit_note_id"}[row.obj]  # fmt: skip
    pk = world.ids()[row.obj] if object_id is None else object_id
    return reverse(f"portal:{row.name}", kwargs={key: pk})


def done_url(row: Row, world: World) -> str:
    obj = row.obj if "<int:" in str(_pattern(row.to)) else None
    return url_of(Row(row.to, "GET", obj, 0, 0, L, L), world)


def send(http: HttpClient, row: Row, url: str, data: dict | None):
    """GET with the query in the URL (so `next` must carry it), POST with a form body."""
    if row.method == "GET":
        full = f"{url}?{urlencode(data)}" if data else url
        return http.get(full), full
    return http.post(url, data or {}), url


def assert_sent_to_login(response, asked_for: str) -> None:
    assert response.status_code == 302, response.content[:300]
    location = urlsplit(response["Location"])
    assert location.path == LOGIN_PATH
    assert parse_qs(location.query) == {"next": [asked_for]}


def assert_shows_none_of(body: str, world: World) -> None:
    leaked = [m for m in world.markers.values() if m in body]
    assert not leaked, f"another client's data on the page: {leaked}"


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("row", MATRIX, ids=str)
def test_matrix(row: Row, principal: str, worlds, request):
    ada = worlds["own"]
    target = worlds[principal] if principal in OTHERS else ada
    data = row.data(target, ada) if row.data else None
    url = url_of(row, target)
    before = {key: snapshot(w.client) for key, w in worlds.items()}

    if principal in ("staff", "anon"):
        portal_account(ada.client)  # Ada has portal access; these principals are not her
    if principal == "staff":
        request.getfixturevalue("staff_user")
        http = HttpClient()
        assert sign_in(http)
        assert http.get(reverse("web:company_list")).status_code == 200  # a real staff session
    elif principal == "anon":
        http = HttpClient()
    else:
        http = portal_session(ada.client)

    response, asked_for = send(http, row, url, data)
    body = response.content.decode(errors="replace")
    expected = getattr(row, "other" if principal in OTHERS else principal)

    if expected == L:
        assert_sent_to_login(response, asked_for)
        assert {k: snapshot(w.client) for k, w in worlds.items()} == before
        return

    assert response.status_code == expected, body[:2000]
    # Nobody else's data, whatever the answer.
    victims = [w for key, w in worlds.items() if key != "own"]
    if row.name != "invoice_pdf" or expected != 200:
        for victim in victims:
            assert_shows_none_of(body, victim)

    if expected == 404:
        # Exactly what an id that never existed answers.
        missing = url_of(row, target, object_id=10**9)
        response_missing, _ = send(http, row, missing, data)
        assert response_missing.status_code == 404
        # The same page: the portal's own "Page not found" (its sign-out form's CSRF token
        # is masked afresh on every page, so it alone differs).
        assert _unmasked(response_missing.content) == _unmasked(response.content)
        assert b"<h1>Page not found</h1>" in response.content

    for key, world in worlds.items():
        changed = snapshot(world.client) != before[key]
        if key == "own" and row.method == "POST" and expected == 302:
            assert changed, f"{row} as {principal} did nothing for the signed-in client"
            assert response["Location"] == done_url(row, ada)
        else:
            assert not changed, f"{row} as {principal} changed {key}'s data"

    if expected == 200 and row.method == "GET":
        for marker in row.shows:  # the page does show the owner's own such data
            assert ada.markers[marker] in body, (marker, body[:2000])
        if row.data:  # the preview of the action ran, and was rolled back (checked above)
            assert 'id="price-effect"' in body, body[:3000]
        if row.name == "invoice_pdf":
            assert response["Content-Type"] == "application/pdf"


# --- Crossed references inside one request -----------------------------------------------


@pytest.mark.parametrize("whose_card", OTHERS)
def test_paying_an_own_invoice_with_another_clients_card_is_404(worlds, whose_card):
    ada, victim = worlds["own"], worlds[whose_card]
    before = {key: snapshot(w.client) for key, w in worlds.items()}
    http = portal_session(ada.client)
    url = reverse("portal:invoice_pay", kwargs={"invoice_id": ada.invoice.pk})
    response = http.post(url, {"method": "account", "account": victim.card.pk})
    assert response.status_code == 404
    assert {key: snapshot(w.client) for key, w in worlds.items()} == before


@pytest.mark.parametrize("whose", OTHERS)
def test_applying_credit_to_another_clients_invoice_is_404(worlds, whose):
    ada, victim = worlds["own"], worlds[whose]
    before = {key: snapshot(w.client) for key, w in worlds.items()}
    http = portal_session(ada.client)
    response = http.post(reverse("portal:invoice_pay", kwargs={"invoice_id": victim.invoice.pk}),
                         {"method": "credit"})  # fmt: skip
    assert response.status_code == 404
    assert {key: snapshot(w.client) for key, w in worlds.items()} == before


@pytest.mark.parametrize("whose", OTHERS)
@pytest.mark.parametrize(
    ("route", "choice"),
    [("service_change_term", "term"), ("service_change_package", "bigger"),
     ("service_order_addon", "addon")],
)  # fmt: skip
def test_another_clients_options_are_not_offered_on_an_own_service(worlds, whose, route,
                                                                   choice):  # fmt: skip
    """Another client's term, package or addon id, posted for one's own service, is refused
    like any option not offered (the same company's catalog is shared, but these belong to
    another package or another term)."""
    ada, victim = worlds["own"], worlds[whose]
    pricing = getattr(victim, choice)
    url = reverse(f"portal:{route}", kwargs={"service_id": ada.service.pk})
    before = {key: snapshot(w.client) for key, w in worlds.items()}
    http = portal_session(ada.client)
    preview = http.get(url, {"pricing": pricing.pk})
    assert preview.status_code == 200
    body = preview.content.decode()
    assert 'id="price-effect"' not in body and "Choose one of the offered options" in body
    response = http.post(url, {"pricing": pricing.pk})
    # Back to the same choice, with the error.
    assert (response.status_code, response["Location"]) == (302, f"{url}?pricing={pricing.pk}")
    assert {key: snapshot(w.client) for key, w in worlds.items()} == before


# --- The group's permissions: 403 with the reason ----------------------------------------


@pytest.fixture
def locked(company):
    """Dmitri, in a group that allows none of the gated actions (but offers paper invoices,
    so only the permission can refuse choosing it)."""
    group = clients.create_group(company, {"name": "Locked"}, actor=ACTOR)
    for key in GATE_SETTINGS:
        set_group_setting(group, key, False, actor=ACTOR)
    set_group_setting(group, "delivery_methods", ["email", "paper"], actor=ACTOR)
    return build_world(company, group, "Dmitri", "4242", "4444", 7001)


GATED = [
    #  route                     query/body  the reason shown
    ("service_cancel",         _cancel, "cancel services online"),
    ("service_change_term",    _term,   "change the billing term of services online"),
    ("service_change_package", _bigger, "change packages online"),
    ("service_order_addon",    _addon,  "order addons online"),
]  # fmt: skip


@pytest.mark.parametrize("how", ["page", "preview", "post"])
@pytest.mark.parametrize(("route", "data", "reason"), GATED, ids=[g[0] for g in GATED])
def test_a_forbidden_service_action_is_403_with_the_reason(locked, route, data, reason, how):
    url = reverse(f"portal:{route}", kwargs={"service_id": locked.service.pk})
    before = snapshot(locked.client)
    http = portal_session(locked.client)
    if how == "post":
        response = http.post(url, data(locked, locked))
    else:
        response = http.get(url, data(locked, locked) if how == "preview" else None)
    assert response.status_code == 403
    body = response.content.decode()
    assert f"{FORBIDDEN_TEXT} {reason}. Please contact us to do it." in body
    assert 'id="price-effect"' not in body and 'id="choose"' not in body
    assert snapshot(locked.client) == before


def test_a_locked_service_page_offers_no_actions(locked):
    http = portal_session(locked.client)
    response = http.get(reverse("portal:service_detail",
                                kwargs={"service_id": locked.service.pk}))  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200
    assert "To change or cancel this service, please contact us." in body
    for route, _, _ in GATED:
        assert reverse(f"portal:{route}", kwargs={"service_id": locked.service.pk}) not in body


@pytest.mark.parametrize(
    ("posted", "reason"),
    [({"tax_id": "DE123"}, "edit the Tax ID online"),
     ({"invoice_method": "paper"}, "choose how invoices are delivered")],
    ids=["tax_id", "invoice_method"],
)  # fmt: skip
def test_a_forbidden_profile_field_is_403_with_the_reason(locked, posted, reason):
    """The profile page itself stays (language, password); the forbidden field is not on it,
    and a direct POST of it is refused as a whole: the language sent with it is not saved."""
    http = portal_session(locked.client)
    page = http.get(reverse("portal:profile"))
    assert page.status_code == 200
    assert 'name="language"' in page.content.decode()
    assert f'name="{next(iter(posted))}"' not in page.content.decode()
    before = snapshot(locked.client)
    response = http.post(reverse("portal:profile"), {"form": "profile", "language": "fr", **posted})
    assert response.status_code == 403
    assert f"{FORBIDDEN_TEXT} {reason}. Please contact us to do it." in response.content.decode()
    assert snapshot(locked.client) == before


def test_forbidden_yet_not_owned_is_404_not_403(locked, worlds):
    """Ownership is checked first: a refused client learns nothing about others' services."""
    victim = worlds["other_same"]
    http = portal_session(locked.client)
    for route, data, _ in GATED:
        url = reverse(f"portal:{route}", kwargs={"service_id": victim.service.pk})
        assert http.get(url, data(victim, locked)).status_code == 404
        assert http.post(url, data(victim, locked)).status_code == 404


def test_the_default_group_allows_addons_and_profile_fields_only(default_group, company):
    """The defaults as documented: cancel, change term and change package are off; ordering
    addons, choosing the invoice method and the Tax ID field are on."""
    eve = build_world(company, default_group, "Eve", "4242", "4444")
    http = portal_session(eve.client)
    for route, data, reason in GATED:
        url = reverse(f"portal:{route}", kwargs={"service_id": eve.service.pk})
        response = http.get(url, data(eve, eve))
        if route == "service_order_addon":
            assert response.status_code == 200
        else:
            assert response.status_code == 403
            assert f"{FORBIDDEN_TEXT} {reason}." in response.content.decode()
    profile = http.get(reverse("portal:profile")).content.decode()
    assert 'name="tax_id"' in profile and 'name="invoice_method"' in profile


# --- CSRF ---------------------------------------------------------------------------------


def _csrf(http: HttpClient) -> str:
    return http.cookies["csrftoken"].value


def csrf_session(world: World) -> HttpClient:
    """Signed in like a browser: the login form's token, and CSRF checks on."""
    account = portal_account(world.client)
    http = HttpClient(enforce_csrf_checks=True)
    assert http.get(reverse("portal:login")).status_code == 200
    refused = http.post(reverse("portal:login"),
                        {"email": account.login, "password": PORTAL_PASSWORD})  # fmt: skip
    assert refused.status_code == 403  # the sign-in form needs its token too
    credentials = {"email": account.login, "password": PORTAL_PASSWORD}
    response = http.post(reverse("portal:login"),
                         {**credentials, "csrfmiddlewaretoken": _csrf(http)})  # fmt: skip
    assert response.status_code == 302
    assert http.get(reverse("portal:dashboard")).status_code == 200
    return http


POST_ROWS = [row for row in MATRIX if row.method == "POST"]


def test_signing_in_rotates_the_csrf_token(make_client):
    """As Django's staff login does: a token planted before sign-in (token fixation) is
    worthless after it."""
    account = portal_account(make_client())
    http = HttpClient(enforce_csrf_checks=True)
    http.get(reverse("portal:login"))
    planted = _csrf(http)
    credentials = {"email": account.login, "password": PORTAL_PASSWORD}
    response = http.post(reverse("portal:login"), {**credentials, "csrfmiddlewaretoken": planted})
    assert response.status_code == 302
    assert _csrf(http) != planted


@pytest.mark.parametrize("row", POST_ROWS, ids=str)
def test_portal_posts_need_the_csrf_token(worlds, row):
    ada = worlds["own"]
    http = csrf_session(ada)
    url = url_of(row, ada)
    data = row.data(ada, ada) if row.data else {}
    before = snapshot(ada.client)
    response = http.post(url, data)
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    assert snapshot(ada.client) == before
    # The same request with the token goes through: the token was all that was missing.
    response = http.post(url, {**data, "csrfmiddlewaretoken": _csrf(http)})
    assert (response.status_code, response["Location"]) == (302, done_url(row, ada))
    assert snapshot(ada.client) != before


def test_logout_needs_the_csrf_token(worlds):
    http = csrf_session(worlds["own"])
    assert http.post(reverse("portal:logout")).status_code == 403
    assert http.get(reverse("portal:dashboard")).status_code == 200  # still signed in
    response = http.post(reverse("portal:logout"), {"csrfmiddlewaretoken": _csrf(http)})
    assert (response.status_code, response["Location"]) == (302, LOGIN_PATH)
    assert_sent_to_login(http.get(reverse("portal:dashboard")), reverse("portal:dashboard"))


# --- Sign in, sign out, password reset ----------------------------------------------------


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("https://evil.example/", "/portal/"),
        ("http://evil.example/portal/", "/portal/"),
        ("//evil.example/", "/portal/"),
        ("///evil.example/", "/portal/"),
        ("/\\evil.example/", "/portal/"),
        ("\\\\evil.example/", "/portal/"),
        ("https:evil.example", "/portal/"),
        ("javascript:alert(1)", "/portal/"),
        (" https://evil.example/", "/portal/"),
        ("http://testserver/portal/invoices/", "/portal/"),  # absolute, even to this host
        ("/companies/", "/portal/"),  # this site, but not the portal
        ("/portal/invoices/", "/portal/invoices/"),
        ("/portal/services/?status=active", "/portal/services/?status=active"),
    ],
)
@pytest.mark.parametrize("carried_in", ["form", "query"])
def test_next_after_sign_in_never_leaves_the_portal(make_client, next_url, lands_on,
                                                    carried_in):  # fmt: skip
    account = portal_account(make_client())
    http = HttpClient()
    page = http.get(reverse("portal:login"), {"next": next_url})
    assert page.status_code == 200
    assert "evil.example" not in page.content.decode()  # not even echoed into the form
    credentials = {"email": account.login, "password": PORTAL_PASSWORD}
    if carried_in == "form":
        response = http.post(reverse("portal:login"), {**credentials, "next": next_url})
    else:
        response = http.post(f"{reverse('portal:login')}?{urlencode({'next': next_url})}",
                             credentials)  # fmt: skip
    assert (response.status_code, response["Location"]) == (302, lands_on)


def test_anonymous_is_sent_back_to_the_page_asked_for(worlds):
    ada = worlds["own"]
    account = portal_account(ada.client)
    http = HttpClient()
    asked_for = reverse("portal:invoice_detail", kwargs={"invoice_id": ada.invoice.pk})
    login = http.get(asked_for)
    assert_sent_to_login(login, asked_for)
    response = http.post(login["Location"], {"email": account.login, "password": PORTAL_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, asked_for)
    assert ada.markers["invoice"] in http.get(asked_for).content.decode()


@pytest.mark.parametrize("status", ["inactive", "fraud"])
def test_a_client_that_is_not_active_cannot_sign_in(make_client, status):
    client = make_client()
    account = portal_account(client)
    clients.update_client(client, {"status": status}, actor=ACTOR)
    http = HttpClient()
    response = http.post(reverse("portal:login"),
                         {"email": account.login, "password": PORTAL_PASSWORD})  # fmt: skip
    assert response.status_code == 200
    assert "This account is not active. Please contact us." in response.content.decode()
    assert_sent_to_login(http.get(reverse("portal:dashboard")), reverse("portal:dashboard"))


@pytest.mark.parametrize("status", ["inactive", "fraud"])
def test_a_signed_in_client_made_inactive_is_signed_out(make_client, status):
    client = make_client()
    http = portal_session(client)
    assert http.get(reverse("portal:dashboard")).status_code == 200
    clients.update_client(client, {"status": status}, actor=ACTOR)
    assert_sent_to_login(http.get(reverse("portal:profile")), reverse("portal:profile"))


def test_a_disabled_portal_account_cannot_sign_in_and_its_session_ends(make_client):
    client = make_client()
    http = portal_session(client)
    account = client.contacts.get(role="primary").portal
    accounts.set_active(account, False, actor=ACTOR)
    assert_sent_to_login(http.get(reverse("portal:dashboard")), reverse("portal:dashboard"))
    response = HttpClient().post(reverse("portal:login"),
                                 {"email": account.login, "password": PORTAL_PASSWORD})  # fmt: skip
    assert response.status_code == 200
    assert accounts.GENERIC_REFUSAL in response.content.decode()


def test_logout_is_post_only_and_ends_only_the_portal_session(make_client, staff_user):
    """Staff and client sessions in one browser are separate: signing out of the portal
    keeps the staff login."""
    client = make_client()
    account = portal_account(client)
    http = HttpClient()
    assert sign_in(http)
    assert_sent_to_login(http.get(reverse("portal:dashboard")), reverse("portal:dashboard"))
    http.post(reverse("portal:login"), {"email": account.login, "password": PORTAL_PASSWORD})
    assert http.get(reverse("portal:dashboard")).status_code == 200
    assert http.get(reverse("portal:logout")).status_code == 405
    assert http.get(reverse("portal:dashboard")).status_code == 200
    response = http.post(reverse("portal:logout"))
    assert (response.status_code, response["Location"]) == (302, LOGIN_PATH)
    assert_sent_to_login(http.get(reverse("portal:dashboard")), reverse("portal:dashboard"))
    assert http.get(reverse("web:company_list")).status_code == 200  # still staff


@pytest.mark.parametrize("principal", ["anon", "staff"])
def test_logout_without_a_portal_session_just_goes_to_sign_in(principal, staff_user):
    http = HttpClient()
    if principal == "staff":
        assert sign_in(http)
    response = http.post(reverse("portal:logout"))
    assert (response.status_code, response["Location"]) == (302, LOGIN_PATH)


def test_a_portal_session_is_not_a_staff_login(make_client):
    http = portal_session(make_client())
    response = http.get(reverse("web:company_list"))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("web:login")


@pytest.mark.parametrize("principal", ["anon", "staff", "client"])
def test_sign_in_and_reset_pages_are_open_to_everyone(principal, make_client, staff_user):
    http = HttpClient()
    if principal == "staff":
        assert sign_in(http)
    elif principal == "client":
        http = portal_session(make_client())
    assert http.get(reverse("portal:login")).status_code == 200
    assert http.get(reverse("portal:reset_request")).status_code == 200


def test_a_reset_request_says_the_same_whether_or_not_the_address_has_access(make_client):
    account = portal_account(make_client())
    answers = []
    for email in (account.login, "nobody@example.com"):
        http = HttpClient()
        response = http.post(reverse("portal:reset_request"), {"email": email}, follow=True)
        assert response.redirect_chain == [(LOGIN_PATH, 302)]
        page = response.content.decode().replace(email, "EMAIL")
        answers.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "TOKEN", page))
    assert answers[0] == answers[1]
    assert accounts.account_resets(account).count() == 1


def test_a_reset_link_is_good_for_its_own_account_only(make_client):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    ada = portal_account(make_client())
    bob = portal_account(make_client(first_name="Bob", email="bob@example.com"))

    def link(account, token):
        uid = urlsafe_base64_encode(force_bytes(account.pk))
        return reverse("portal:reset_confirm", kwargs={"uid": uid, "token": token})

    ada_token = accounts.reset_tokens.make_token(ada)
    http = HttpClient()
    assert http.get(link(ada, ada_token)).status_code == 200
    assert http.get(link(bob, ada_token)).status_code == 400  # Ada's token, Bob's id
    response = http.post(link(bob, ada_token), {"password": "taken over 2026",
                                                "password2": "taken over 2026"})  # fmt: skip
    assert response.status_code == 400
    assert http.get(link(ada, "garbage-token")).status_code == 400
    bad_uid = reverse("portal:reset_confirm", kwargs={"uid": "not-base64!", "token": ada_token})
    assert http.get(bad_uid).status_code == 400
    before = bob.password
    bob.refresh_from_db()
    assert bob.password == before

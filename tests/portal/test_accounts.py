"""Portal sign-in with throttling (5 failures per 15 minutes, per login and per address, also
for attempts running at once and for the current password on the profile), password reset
links through the outbox (to the login), a password change or a disabling ending sessions,
what error reports leave out, and which required fields a contact edit marks."""

import re
from datetime import UTC, datetime, timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.signals import got_request_exception
from django.test import Client as HttpClient
from django.views.debug import SafeExceptionReporterFilter

from groupbill.audit.models import AuditEntry
from groupbill.clients.actions import add_contact
from groupbill.errors import ValidationFailed
from groupbill.notices.models import OutboxMessage
from groupbill.notices.sender import build_email
from groupbill.portal import accounts, throttle
from groupbill.portal.models import LoginFailure
from groupbill.settings_catalog.actions import set_company_settings
from tests.conftest import ACTOR, PORTAL_PASSWORD, portal_account

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOCKED = "Too many failed sign-ins"
REFUSED = accounts.GENERIC_REFUSAL
RESET_SENT = "If that address has portal access, a link to choose a new password is on its way."


class Clock:
    """`django.utils.timezone.now`, as the sign-in and reset views read it, set by the test."""

    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock():
    now = Clock(T0)
    with mock.patch("django.utils.timezone.now", now):
        yield now


@pytest.fixture
def ada_in_default_group(make_client):
    return make_client(email="ada@example.com")


@pytest.fixture
def account(ada_in_default_group):
    return portal_account(ada_in_default_group)


def sign_in(http, login, password, address="127.0.0.1"):
    return http.post("/portal/login/", {"email": login, "password": password},
                     REMOTE_ADDR=address)  # fmt: skip


def signed_in(http) -> bool:
    r = http.get("/portal/")
    if r.status_code == 302:
        assert r["Location"].startswith("/portal/login/")
        return False
    assert r.status_code == 200
    return True


# --- Throttling ----------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_login_for_fifteen_minutes(clock, account):
    http = HttpClient()
    for attempt in range(1, 5):
        r = sign_in(http, account.login, f"wrong {attempt}")
        assert r.status_code == 200
        assert REFUSED in r.content.decode()
    r = sign_in(http, account.login, "wrong 5")  # the fifth failure locks at once
    assert r.status_code == 429
    assert LOCKED in r.content.decode()

    clock.advance(minutes=1)
    r = sign_in(http, account.login, PORTAL_PASSWORD)  # right password, still refused
    assert r.status_code == 429
    assert "try again in 14 minutes" in r.content.decode()
    assert not signed_in(http)
    # Refusals while locked are not failures: they do not stretch the lockout.
    assert LoginFailure.objects.count() == 5

    clock.advance(minutes=13, seconds=59)  # 14:59 after the failures
    r = sign_in(http, account.login, PORTAL_PASSWORD)
    assert r.status_code == 429
    assert "try again in 1 minute " in r.content.decode()

    clock.advance(seconds=1)  # 15:00: the failures have left the window
    r = sign_in(http, account.login, PORTAL_PASSWORD)
    assert r.status_code == 302
    assert signed_in(http)


def test_the_lock_holds_for_the_login_whatever_the_address(clock, account):
    http = HttpClient()
    for attempt in range(5):
        sign_in(http, account.login, "wrong", address=f"10.0.1.{attempt}")
    r = sign_in(http, account.login, PORTAL_PASSWORD, address="10.0.2.1")
    assert r.status_code == 429
    assert LOCKED in r.content.decode()


def test_five_failures_from_one_address_lock_that_address_for_every_login(clock, account):
    http = HttpClient()
    for attempt in range(5):
        r = sign_in(http, f"guess{attempt}@example.com", "whatever", address="10.0.0.9")
    assert r.status_code == 429
    r = sign_in(http, account.login, PORTAL_PASSWORD, address="10.0.0.9")
    assert r.status_code == 429
    assert LOCKED in r.content.decode()
    assert not signed_in(http)

    other = HttpClient()  # the account itself is not locked: another address signs in
    assert sign_in(other, account.login, PORTAL_PASSWORD, address="10.0.0.10").status_code == 302

    clock.advance(minutes=15)
    assert sign_in(http, account.login, PORTAL_PASSWORD, address="10.0.0.9").status_code == 302


def test_sign_in_counts_failures_over_a_sliding_window(account):
    """Failures one minute apart: locked from the fifth until 15 minutes after the first
    one of the five latest; fewer than five in the window lets the right password in."""
    for minute in range(4):
        result = accounts.sign_in(account.login, "wrong", address="a",
                                  now=T0 + timedelta(minutes=minute))  # fmt: skip
        assert (result.account, result.error, result.locked) == (None, REFUSED, False)
    ok = accounts.sign_in(account.login, PORTAL_PASSWORD, address="a",
                          now=T0 + timedelta(minutes=4))  # fmt: skip
    assert ok.account == account  # four failures do not lock

    fifth = accounts.sign_in(account.login, "wrong", address="a", now=T0 + timedelta(minutes=5))
    assert fifth.locked and fifth.error.startswith(LOCKED)
    assert "try again in 10 minutes" in fifth.error  # free at T0 + 15 min

    for moment in (T0 + timedelta(minutes=14, seconds=59), T0 + timedelta(minutes=7)):
        held = accounts.sign_in(account.login, PORTAL_PASSWORD, address="b", now=moment)
        assert held.locked and held.account is None

    free = accounts.sign_in(account.login, PORTAL_PASSWORD, address="b",
                            now=T0 + timedelta(minutes=15))  # fmt: skip
    assert free.account == account
    assert throttle.lockout(account.login, "b", T0 + timedelta(minutes=15)) is None


def test_logins_are_compared_case_insensitively_and_so_are_their_failures(account):
    for _ in range(5):
        accounts.sign_in(" ADA@Example.com ", "wrong", address="a", now=T0)
    assert accounts.sign_in(account.login, PORTAL_PASSWORD, address="b", now=T0).locked
    later = T0 + timedelta(minutes=15)
    assert accounts.sign_in("Ada@Example.COM", PORTAL_PASSWORD, address="b", now=later).account


# --- Password reset ------------------------------------------------------------------------


def request_reset(http, email):
    r = http.post("/portal/password-reset/", {"email": email}, follow=True)
    assert r.status_code == 200
    assert RESET_SENT in r.content.decode()


def test_a_reset_link_sets_a_new_password_once(clock, ada_in_default_group, account):
    http = HttpClient()
    request_reset(http, "  Ada@Example.com ")
    [message] = OutboxMessage.objects.all()
    assert (message.template, message.client_id, message.status) == (
        "password_reset", ada_in_default_group.pk, "pending",
    )  # fmt: skip
    assert [r["email"] for r in message.recipients] == ["ada@example.com"]
    url = message.context["reset_url"]
    assert url.startswith("http://testserver/portal/password-reset/")
    assert message.context["valid_hours"] == 24  # settings.PASSWORD_RESET_TIMEOUT

    email = build_email(message)
    assert email.to == ["Ada Lovelace <ada@example.com>"]
    assert email.subject == "Reset your password at Acme Hosting"
    assert url in email.body
    assert "within 24 hours" in email.body

    path = urlsplit(url).path
    r = http.get(path)
    assert r.status_code == 200
    assert 'name="password2"' in r.content.decode()
    assert "For ada@example.com" in r.content.decode()

    r = http.post(path, {"password": "brand new secret", "password2": "something else"})
    assert r.status_code == 400
    assert "The two passwords differ." in r.content.decode()
    r = http.post(path, {"password": "short", "password2": "short"})
    assert r.status_code == 400  # Django's minimum length

    r = http.post(path, {"password": "brand new secret", "password2": "brand new secret"})
    assert r.status_code == 302 and r["Location"] == "/portal/login/"

    old = sign_in(HttpClient(), account.login, PORTAL_PASSWORD)
    assert old.status_code == 200 and REFUSED in old.content.decode()
    assert sign_in(HttpClient(), account.login, "brand new secret").status_code == 302

    for method in ("get", "post"):  # used: the link is dead
        r = getattr(http, method)(path, {"password": "again again", "password2": "again again"})
        assert r.status_code == 400
        assert "This link no longer works" in r.content.decode()
    assert sign_in(HttpClient(), account.login, "again again").status_code == 200


def test_a_reset_for_an_unknown_address_says_the_same_and_sends_nothing(clock, account):
    request_reset(HttpClient(), "nobody@example.com")
    request_reset(HttpClient(), "")
    assert OutboxMessage.objects.count() == 0


def test_a_disabled_account_gets_no_reset_link(clock, account):
    accounts.set_active(account, False, actor="test")
    request_reset(HttpClient(), account.login)
    assert OutboxMessage.objects.count() == 0


def test_at_most_three_reset_links_an_hour(clock, account):
    http = HttpClient()
    for _ in range(5):
        request_reset(http, account.login)
        clock.advance(minutes=1)
    assert OutboxMessage.objects.filter(template="password_reset").count() == 3

    clock.advance(minutes=56)  # 60 minutes after the first one
    request_reset(http, account.login)
    assert OutboxMessage.objects.count() == 4


def test_each_link_works_and_a_sign_in_or_a_newer_password_retires_older_links(clock, account):
    http = HttpClient()
    request_reset(http, account.login)
    request_reset(http, account.login)
    first, second = (
        urlsplit(m.context["reset_url"]).path for m in OutboxMessage.objects.order_by("pk")
    )
    assert http.get(first).status_code == 200 and http.get(second).status_code == 200
    r = http.post(second, {"password": "the second one", "password2": "the second one"})
    assert r.status_code == 302
    assert http.get(first).status_code == 400  # the password it was made for changed

    request_reset(http, account.login)
    third = urlsplit(OutboxMessage.objects.order_by("pk").last().context["reset_url"]).path
    clock.advance(seconds=2)
    assert sign_in(HttpClient(), account.login, "the second one").status_code == 302
    assert http.get(third).status_code == 400  # a sign-in since it was sent


def test_a_link_expires_after_the_reset_timeout(clock, settings, account):
    request_reset(HttpClient(), account.login)
    path = urlsplit(OutboxMessage.objects.get().context["reset_url"]).path
    sent = datetime.now()  # Django's token generator reads the naive local clock
    for delay, status in ((settings.PASSWORD_RESET_TIMEOUT - 60, 200),
                          (settings.PASSWORD_RESET_TIMEOUT + 1, 400)):  # fmt: skip
        later = sent + timedelta(seconds=delay)
        with mock.patch.object(accounts.reset_tokens, "_now", return_value=later):
            assert HttpClient().get(path).status_code == status


# --- Sessions ------------------------------------------------------------------------------


def test_a_password_change_ends_the_other_sessions(account):
    here, there = HttpClient(), HttpClient()
    for http in (here, there):
        assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302
        assert signed_in(http)

    change = {"form": "password", "password": "next secret 1", "password2": "next secret 1"}
    r = here.post("/portal/profile/", change | {"current_password": "wrong"})
    assert r.status_code == 400
    assert signed_in(there)  # nothing changed

    r = here.post("/portal/profile/", change | {"current_password": PORTAL_PASSWORD})
    assert r.status_code == 302
    assert signed_in(here)  # the session that changed it stays
    r = there.get("/portal/invoices/")
    assert r.status_code == 302
    assert r["Location"] == "/portal/login/?next=%2Fportal%2Finvoices%2F"


def test_a_reset_ends_every_session(clock, account):
    http = HttpClient()
    assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302
    clock.advance(seconds=1)
    request_reset(HttpClient(), account.login)
    path = urlsplit(OutboxMessage.objects.get().context["reset_url"]).path
    r = HttpClient().post(path, {"password": "from the link", "password2": "from the link"})
    assert r.status_code == 302
    assert not signed_in(http)


def test_a_new_password_lifts_the_accounts_lockout_but_not_the_addresses(make_client):
    ada = make_client()
    account = portal_account(ada)
    now = datetime.now(UTC)
    for _ in range(5):
        accounts.sign_in(account.login, "wrong", address="10.1.1.1", now=now)
    assert accounts.sign_in(account.login, PORTAL_PASSWORD, address="10.1.1.2", now=now).locked
    accounts.set_password(account, "a brand new secret 7", actor=ACTOR)
    fresh = accounts.sign_in(account.login, "a brand new secret 7", address="10.1.1.2", now=now)
    assert fresh.account is not None
    # The address that guessed is still paused.
    again = accounts.sign_in(account.login, "a brand new secret 7", address="10.1.1.1", now=now)
    assert again.locked


# --- Disabling and enabling ----------------------------------------------------------------


def test_enabling_again_keeps_the_password_but_not_old_sessions_or_links(clock, account):
    http = HttpClient()
    assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302
    clock.advance(seconds=1)  # a link from after that sign-in
    request_reset(HttpClient(), account.login)
    link = urlsplit(OutboxMessage.objects.get().context["reset_url"]).path
    assert HttpClient().get(link).status_code == 200

    accounts.set_active(account, False, actor=ACTOR)
    accounts.set_active(account, True, actor=ACTOR)

    assert not signed_in(http)
    r = HttpClient().post(link, {"password": "taken over 1", "password2": "taken over 1"})
    assert r.status_code == 400 and "This link no longer works" in r.content.decode()
    assert sign_in(HttpClient(), account.login, "taken over 1").status_code == 200
    assert sign_in(HttpClient(), account.login, PORTAL_PASSWORD).status_code == 302  # kept

    clock.advance(seconds=1)
    request_reset(HttpClient(), account.login)  # a new link works
    fresh = urlsplit(OutboxMessage.objects.order_by("pk").last().context["reset_url"]).path
    assert HttpClient().get(fresh).status_code == 200


def test_set_active_changes_and_audits_only_what_changes(account):
    def audited():
        return list(
            AuditEntry.objects.filter(action__in=["portal.enable", "portal.disable"])
            .order_by("pk")
            .values_list("action", flat=True)
        )

    assert accounts.set_active(account, True, actor=ACTOR).session_version == 0
    assert audited() == []
    for _ in range(2):
        accounts.set_active(account, False, actor=ACTOR)
    assert (account.is_active, account.session_version) == (False, 1)
    accounts.set_active(account, True, actor=ACTOR)
    account.refresh_from_db()
    assert (account.is_active, account.session_version) == (True, 1)
    assert audited() == ["portal.disable", "portal.enable"]


# --- Where links go ------------------------------------------------------------------------


def test_a_link_goes_to_the_login_not_to_an_edited_contact_email(
    clock, ada_in_default_group, account
):
    """A client may edit any of its contacts' emails in the portal: that must not redirect
    another login's password link."""
    bob = add_contact(
        ada_in_default_group,
        {"role": "billing", "first_name": "Bob", "email": "bob@example.com"},
        actor=ACTOR,
    )
    bob_login = accounts.grant_access(bob, actor=ACTOR).login
    http = HttpClient()
    assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302
    data = {f: getattr(bob, f) for f in ("first_name", "last_name", "email")}
    r = http.post(f"/portal/contacts/{bob.pk}/", data | {"email": "mallory@evil.example"})
    assert r.status_code == 302
    bob.refresh_from_db()
    assert bob.email == "mallory@evil.example"

    request_reset(HttpClient(), bob_login)
    request_reset(HttpClient(), "mallory@evil.example")  # not a login: nothing
    [message] = OutboxMessage.objects.all()
    assert [r["email"] for r in message.recipients] == ["bob@example.com"]
    assert build_email(message).to == ["Bob <bob@example.com>"]


# --- Attempts running at the same time -----------------------------------------------------


def test_sign_ins_running_at_once_get_no_more_tries_than_the_limit(account):
    """While one sign-in checks its (slow) password, another starts: it sees the first as a
    failure already, so with four failures before, only one of the two is checked."""
    for n in range(4):
        accounts.sign_in(account.login, "wrong", address=f"10.0.0.{n}", now=T0)
    checked, during = [], []
    check = accounts.check_password

    def slow_check(password, encoded):
        checked.append(password)
        if len(checked) == 1:
            during.append(accounts.sign_in(account.login, "guess 2", address="10.0.1.2", now=T0))
        return check(password, encoded)

    with mock.patch.object(accounts, "check_password", slow_check):
        first = accounts.sign_in(account.login, "guess 1", address="10.0.1.1", now=T0)
    assert checked == ["guess 1"]
    assert during[0].locked and first.locked
    assert LoginFailure.objects.count() == 5


def test_a_sign_in_that_passed_the_check_as_another_took_the_last_try_is_refused(account):
    """The one place left between checking the lockout and counting the attempt: an attempt
    counted after the limit was reached is not checked (the earlier ones are)."""
    for n in range(4):
        accounts.sign_in(account.login, "wrong", address=f"10.0.0.{n}", now=T0)
    checked, during = [], []
    check, lockout = accounts.check_password, throttle.lockout

    def lockout_then_another(*args, **kwargs):
        found = lockout(*args, **kwargs)
        if not during:
            during.append(None)  # once, and not for the attempt started here
            during[0] = accounts.sign_in(account.login, "guess 2", address="10.0.1.2", now=T0)
        return found

    def counting_check(password, encoded):
        checked.append(password)
        return check(password, encoded)

    with (
        mock.patch.object(throttle, "lockout", lockout_then_another),
        mock.patch.object(accounts, "check_password", counting_check),
    ):
        first = accounts.sign_in(account.login, PORTAL_PASSWORD, address="10.0.1.1", now=T0)
    assert checked == ["guess 2"]  # the fifth try was the other one's
    assert during[0].locked and first.locked and first.account is None
    assert LoginFailure.objects.count() == 5


def test_a_right_password_takes_its_attempt_back(account):
    for n in range(4):
        accounts.sign_in(account.login, "wrong", address="a", now=T0 + timedelta(seconds=n))
    for _ in range(3):
        assert accounts.sign_in(account.login, PORTAL_PASSWORD, address="a", now=T0).account
    assert LoginFailure.objects.count() == 4
    assert not accounts.sign_in(account.login, "wrong", address="b", now=T0).account
    assert accounts.sign_in(account.login, PORTAL_PASSWORD, address="b", now=T0).locked


# --- Changing the password -----------------------------------------------------------------


def test_a_wrong_current_password_counts_as_a_failed_sign_in(clock, account):
    http = HttpClient()
    assert sign_in(http, account.login, PORTAL_PASSWORD, address="10.2.0.1").status_code == 302
    change = {"form": "password", "password": "next secret 1", "password2": "next secret 1"}
    for n in range(4):
        r = http.post("/portal/profile/", change | {"current_password": f"guess {n}"})
        assert r.status_code == 400
        assert "is not your current password" in r.content.decode()
    r = http.post("/portal/profile/", change | {"current_password": "guess 4"})
    assert r.status_code == 400 and LOCKED in r.content.decode()
    assert LoginFailure.objects.filter(login=account.login).count() == 5

    # The login is locked out: for signing in anywhere, and for changing the password.
    r = sign_in(HttpClient(), account.login, PORTAL_PASSWORD, address="10.2.0.2")
    assert r.status_code == 429
    r = http.post("/portal/profile/", change | {"current_password": PORTAL_PASSWORD})
    assert r.status_code == 400 and LOCKED in r.content.decode()
    assert sign_in(HttpClient(), account.login, "next secret 1").status_code == 429
    assert signed_in(http)  # the session itself stays

    clock.advance(minutes=15)
    r = http.post("/portal/profile/", change | {"current_password": PORTAL_PASSWORD})
    assert r.status_code == 302
    assert sign_in(HttpClient(), account.login, "next secret 1").status_code == 302


def test_change_password_names_the_field_at_fault(account):
    def refused(current, new, again):
        with pytest.raises(ValidationFailed) as exc:
            accounts.change_password(account, current, new, again, actor=ACTOR, address="a", now=T0)
        return [e.field for e in exc.value.errors]

    assert refused("wrong", "next secret 1", "next secret 1") == ["current_password"]
    assert refused(PORTAL_PASSWORD, "next secret 1", "next secret 2") == ["password2"]
    assert refused(PORTAL_PASSWORD, "short", "short") == ["password"]
    assert refused(None, "next secret 1", "next secret 1") == ["current_password"]
    assert LoginFailure.objects.count() == 2  # the two wrong current passwords
    accounts.change_password(
        account, PORTAL_PASSWORD, "next secret 1", "next secret 1", actor=ACTOR, address="a", now=T0
    )
    assert accounts.sign_in(account.login, "next secret 1", address="b", now=T0).account


# --- What error reports leave out ----------------------------------------------------------


@pytest.fixture
def failing_request():
    """The POST parameters of the request a view failed on, as an error report shows them."""
    seen = {}

    def keep(sender, request, **kwargs):
        seen.update(SafeExceptionReporterFilter().get_post_parameters(request).items())

    got_request_exception.connect(keep)
    yield seen
    got_request_exception.disconnect(keep)


HIDDEN = "********************"


def test_error_reports_leave_out_passwords_and_card_numbers(
    failing_request, ada_in_default_group, account
):
    boom = mock.Mock(side_effect=RuntimeError("boom"))
    anonymous = HttpClient(raise_request_exception=False)
    with mock.patch.object(accounts, "sign_in", boom):
        r = anonymous.post("/portal/login/", {"email": account.login, "password": "secret 1"})
    assert r.status_code == 500
    assert failing_request == {"email": account.login, "password": HIDDEN}

    failing_request.clear()
    with (
        mock.patch.object(accounts, "account_for_reset", return_value=account),
        mock.patch.object(accounts, "set_password", boom),
    ):
        r = anonymous.post(
            "/portal/password-reset/x/y/", {"password": "secret 2", "password2": "secret 2"}
        )
    assert r.status_code == 500
    assert failing_request == {"password": HIDDEN, "password2": HIDDEN}

    http = HttpClient(raise_request_exception=False)
    assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302
    failing_request.clear()
    with mock.patch.object(accounts, "change_password", boom):
        r = http.post(
            "/portal/profile/",
            {
                "form": "password",
                "current_password": "secret 3",
                "password": "secret 4",
                "password2": "secret 4",
            },
        )
    assert r.status_code == 500
    assert failing_request == {
        "form": "password",
        "current_password": HIDDEN,
        "password": HIDDEN,
        "password2": HIDDEN,
    }

    failing_request.clear()
    with mock.patch("groupbill.portal.actions.add_card", boom):
        r = http.post(
            "/portal/payment-methods/add/",
            {"number": "4242424242424242", "label": "mine", "expiry": "12/30"},
        )
    assert r.status_code == 500
    assert failing_request == {"number": HIDDEN, "label": "mine", "expiry": "12/30"}


# --- Editing a contact ---------------------------------------------------------------------


def field_tags(html: str, name: str) -> tuple[str, str]:
    """The `<label>` text and the `<input>` tag of a form field."""
    label = re.search(rf'<label for="id_{name}"[^>]*>([^<]*)</label>', html).group(1)
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
    return label.strip(), tag


def test_contact_edit_marks_only_the_required_fields_the_contact_has_filled(
    clock, company, make_client
):
    ada = make_client(email="ada@example.com")  # no phone
    account = portal_account(ada)
    set_company_settings(company, {"required_contact_fields": ["email", "phone"]}, actor=ACTOR)
    contact = account.contact
    http = HttpClient()
    assert sign_in(http, account.login, PORTAL_PASSWORD).status_code == 302

    page = http.get(f"/portal/contacts/{contact.pk}/").content.decode()
    label, tag = field_tags(page, "email")
    assert label.startswith("Email *") and " required" in tag
    label, tag = field_tags(page, "phone")
    assert "*" not in label and " required" not in tag  # may stay empty: the browser must agree

    data = {f: getattr(contact, f) for f in ("first_name", "last_name", "email")}
    r = http.post(f"/portal/contacts/{contact.pk}/", data | {"first_name": "Augusta"})
    assert r.status_code == 302
    contact.refresh_from_db()
    assert (contact.first_name, contact.phone) == ("Augusta", "")

    page = http.get("/portal/contacts/add/").content.decode()  # a new contact: all of them
    for name in ("email", "phone"):
        label, tag = field_tags(page, name)
        assert "*" in label and " required" in tag


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended(settings, make_client):
    """X-Forwarded-For: a client may write anything first; the proxy appends what it saw.
    Changing the first entry on every try does not escape the address limit."""
    settings.CLIENT_ADDRESS_HEADER = "HTTP_X_FORWARDED_FOR"
    portal_account(make_client())
    http = HttpClient()
    statuses = []
    for n in range(6):
        r = http.post("/portal/login/", {"email": f"guess{n}@example.com", "password": "x"},
                      HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")  # fmt: skip
        statuses.append(r.status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert LoginFailure.objects.filter(address="203.0.113.7").count() == 5

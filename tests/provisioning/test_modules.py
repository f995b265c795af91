"""Provisioning modules: `none` always succeeds, `test` answers what a test scripted, and
`webhook` POSTs signed events to a real HTTP server on loopback."""

import json
import socket
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from groupbill.catalog.models import ConfigOption, ConfigOptionValue, Package, PackagePrice
from groupbill.clients.models import Contact
from groupbill.errors import ValidationFailed
from groupbill.provisioning import (
    ACTIONS,
    MODULE_NAMES,
    ModuleResult,
    ProvisioningModule,
    get_module,
    verify_signature,
)
from groupbill.provisioning import test as test_module
from groupbill.provisioning.webhook import WebhookModule, signature_header
from groupbill.services.models import Service, ServiceOption, ServiceStatus
from tests.webhook_receiver import Receiver

SECRET = "whsec_correct-horse-battery"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def make_package(company, name="VPS S", **fields):
    package = Package.objects.create(company=company, name=name, **fields)
    PackagePrice.objects.create(package=package, unit="month", count=1, currency="EUR", price=900)
    return package


def make_service(client, package, **fields):
    return Service.objects.create(
        client=client, package=package, pricing=package.prices.get(), **fields
    )


@pytest.fixture
def ops_client(make_client):
    return make_client(email="ops@example.com")


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def hooked(company, ops_client, receiver):
    """A service whose package's webhook is the receiver."""
    package = make_package(
        company, module="webhook", webhook_url=f"{receiver.url}/hooks/groupbill?src=gb",
        webhook_secret=SECRET,
    )  # fmt: skip
    return make_service(ops_client, package, status=ServiceStatus.ACTIVE, quantity=2,
                        renew_date=date(2026, 3, 31), anchor_date=date(2026, 1, 31))  # fmt: skip


# --- Registry ------------------------------------------------------------------------------


def test_registry_names_protocol_and_live_flags():
    assert MODULE_NAMES == ("none", "test", "webhook")
    for name in MODULE_NAMES:
        module = get_module(name)
        assert isinstance(module, ProvisioningModule)
        assert module.name == name
    assert [get_module(n).live for n in MODULE_NAMES] == [False, False, True]


@pytest.mark.parametrize("name", ["cpanel", "", "Webhook", None])
def test_unknown_module_is_a_field_error(name):
    with pytest.raises(ValidationFailed) as raised:
        get_module(name)
    [error] = raised.value.errors
    assert error.field == "module"
    assert "none, test, webhook" in error.message


def call(module, action, service, key, old_package=None):
    if action == "change_package":
        return module.change_package(service, old_package or service.package, key)
    return getattr(module, action)(service, key)


# --- none ----------------------------------------------------------------------------------


def test_none_module_always_succeeds(company, ops_client):
    service = make_service(ops_client, make_package(company))
    for action in ACTIONS:
        assert call(get_module("none"), action, service, f"{action}:1") == ModuleResult(True)


# --- test ----------------------------------------------------------------------------------


def test_test_module_answers_scripts_in_order_then_ok(company, ops_client):
    package = make_package(company)
    one, two = make_service(ops_client, package), make_service(ops_client, package)
    module = get_module("test")
    down, busy = ModuleResult(False, "panel down"), ModuleResult(False, "busy")
    test_module.script(one.pk, "renew", down, busy)
    test_module.script(one.pk, "renew", ModuleResult(True, "third"))  # appended

    assert module.renew(two, "r-two") == ModuleResult(True)  # other service: default
    assert module.suspend(one, "s-one") == ModuleResult(True)  # other action: default
    assert module.renew(one, "r1") == down
    assert module.renew(one, "r2") == busy
    assert module.renew(one, "r3") == ModuleResult(True, "third")
    assert module.renew(one, "r4") == ModuleResult(True)
    assert test_module.calls == [
        ("renew", two.pk, "r-two"), ("suspend", one.pk, "s-one"), ("renew", one.pk, "r1"),
        ("renew", one.pk, "r2"), ("renew", one.pk, "r3"), ("renew", one.pk, "r4"),
    ]  # fmt: skip


def test_test_module_scripts_every_action(company, ops_client):
    service = make_service(ops_client, make_package(company))
    module = get_module("test")
    for action in ACTIONS:
        test_module.script(service.pk, action, ModuleResult(False, action))
    for action in ACTIONS:
        assert call(module, action, service, f"k-{action}") == ModuleResult(False, action)
        assert call(module, action, service, f"k2-{action}").ok
    assert [c[0] for c in test_module.calls[::2]] == list(ACTIONS)
    assert test_module.calls[-1] == ("change_package", service.pk, "k2-change_package")


def test_test_module_reset_forgets_scripts_and_calls(company, ops_client):
    service = make_service(ops_client, make_package(company))
    calls = test_module.calls
    test_module.script(service.pk, "add", ModuleResult(False, "no"))
    get_module("test").cancel(service, "c")
    test_module.reset()
    assert calls == [] and test_module.calls is calls  # cleared in place
    assert get_module("test").add(service, "a").ok
    assert calls == [("add", service.pk, "a")]


def test_test_module_refuses_bad_scripts():
    with pytest.raises(ValueError, match="unknown action"):
        test_module.script(1, "provision", ModuleResult(True))
    with pytest.raises(TypeError):
        test_module.script(1, "add", False)


# --- webhook: the event --------------------------------------------------------------------


def test_webhook_posts_the_event_with_headers(company, ops_client, hooked, receiver):
    addon = make_service(ops_client, make_package(company, "Backup"), parent=hooked)
    ram = ConfigOption.objects.create(package=hooked.package, name="RAM")
    disk = ConfigOption.objects.create(package=hooked.package, name="Disk GB", kind="quantity")
    gb4 = ConfigOptionValue.objects.create(option=ram, name="4 GB")
    ssd = ConfigOptionValue.objects.create(option=disk, name="SSD")
    ServiceOption.objects.create(service=hooked, option=ram, value=gb4)
    ServiceOption.objects.create(service=hooked, option=disk, value=ssd, quantity=80)
    module = WebhookModule(clock=lambda: 1_767_225_600.7)

    result = module.add(hooked, f"add:service:{hooked.pk}")

    assert result.ok, result.message
    [request] = receiver.requests
    assert request["path"] == "/hooks/groupbill?src=gb"
    headers = request["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["Groupbill-Event-Id"] == f"add:service:{hooked.pk}"
    assert headers["Groupbill-Signature"].startswith("t=1767225600,v1=")
    assert json.loads(request["body"]) == {
        "id": f"add:service:{hooked.pk}",
        "type": "service.add",
        "created": 1767225600,
        "service": {
            "id": hooked.pk, "status": "active", "package_id": hooked.package_id,
            "package_name": "VPS S", "quantity": 2, "renew_date": "2026-03-31",
            "parent_id": None,
            "options": [
                {"option": "RAM", "value": "4 GB", "quantity": 1, "option_id": ram.pk,
                 "value_id": gb4.pk},
                {"option": "Disk GB", "value": "SSD", "quantity": 80, "option_id": disk.pk,
                 "value_id": ssd.pk},
            ],
        },
        "client": {"id": ops_client.pk, "company_id": company.pk, "group_id": ops_client.group_id,
                   "email": "ops@example.com"},
    }  # fmt: skip
    # An addon names its parent; no renew date is null.
    addon.package.webhook_url, addon.package.webhook_secret = receiver.url, SECRET
    assert module.renew(addon, "renew:addon").ok
    sent = json.loads(receiver.requests[1]["body"])
    assert sent["type"] == "service.renew"
    assert sent["service"]["parent_id"] == hooked.pk
    assert sent["service"]["renew_date"] is None
    assert sent["service"]["options"] == []


def test_each_action_sends_its_event_type(company, hooked, receiver):
    old = make_package(company, "VPS XS")
    module = WebhookModule()
    for action in ACTIONS:
        assert call(module, action, hooked, f"key-{action}", old_package=old).ok
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["type"] for b in bodies] == [f"service.{a}" for a in ACTIONS]
    assert [b["id"] for b in bodies] == [f"key-{a}" for a in ACTIONS]
    assert [r["headers"]["Groupbill-Event-Id"] for r in receiver.requests] == [
        f"key-{a}" for a in ACTIONS
    ]
    assert bodies[-1]["old_package"] == {"id": old.pk, "name": "VPS XS"}
    assert all("old_package" not in b for b in bodies[:-1])


def test_client_without_primary_email_is_null(hooked, ops_client, receiver):
    Contact.objects.filter(client=ops_client).update(email="")
    assert WebhookModule().cancel(hooked, "c").ok
    assert json.loads(receiver.requests[0]["body"])["client"]["email"] is None


# --- webhook: the signature ----------------------------------------------------------------


def test_signature_verifies_with_the_secret_only(hooked, receiver):
    assert WebhookModule().suspend(hooked, "s").ok
    [request] = receiver.requests
    header, body = request["headers"]["Groupbill-Signature"], request["body"]
    assert verify_signature(SECRET, header, body)
    assert verify_signature(SECRET, header, body.decode())  # str bodies too
    assert not verify_signature("whsec_wrong", header, body)
    assert not verify_signature("", header, body)
    tampered = body.replace(b'"service.suspend"', b'"service.cancel"')
    assert tampered != body
    assert not verify_signature(SECRET, header, tampered)
    assert not verify_signature(SECRET, header, body + b" ")


def test_signature_expires(hooked, receiver):
    sent_at = 1_700_000_000
    assert WebhookModule(clock=lambda: sent_at).unsuspend(hooked, "u").ok
    [request] = receiver.requests
    header, body = request["headers"]["Groupbill-Signature"], request["body"]
    assert verify_signature(SECRET, header, body, now=sent_at + 300)
    assert verify_signature(SECRET, header, body, now=sent_at - 300)  # receiver clock behind
    assert not verify_signature(SECRET, header, body, now=sent_at + 301)
    assert not verify_signature(SECRET, header, body, now=sent_at - 301)
    assert not verify_signature(SECRET, header, body)  # the wall clock is years later
    assert verify_signature(SECRET, header, body, tolerance_seconds=10**10)


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    import hashlib
    import hmac

    body = b'{"id":"k"}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature_header("s3cret", body, 1700000000) == f"t=1700000000,v1={expected}"


@pytest.mark.parametrize(
    "header",
    ["", "garbage", "v1=abc", "t=1700000000", "t=abc,v1={sig}", "t=1700000000,v1=",
     "t=1700000000,t=1700000000,v1={sig}", "t=\uff11\uff17\uff10\uff10,v1={sig}",
     "t=1700000000,v1=é",
     "t=" + "9" * 5000 + ",v1={sig}", "t=-1700000000,v1={sig}", "t=1700000000;v1={sig}"],
)  # fmt: skip
def test_malformed_signature_headers_are_false_not_errors(header):
    body = b"{}"
    sig = signature_header(SECRET, body, 1700000000).split("v1=")[1]
    assert not verify_signature(SECRET, header.format(sig=sig), body, now=1700000000)


def test_any_of_several_v1_signatures_may_match():
    body = b"{}"
    good = signature_header(SECRET, body, 1700000000)
    rotated = good.replace("v1=", "v1=" + "0" * 64 + ",v1=")
    assert verify_signature(SECRET, rotated, body, now=1700000000)
    assert verify_signature(SECRET, f" {good.replace(',', ' , ')} ", body, now=1700000000)
    assert not verify_signature(SECRET, good, body, now=1700000000.0 + 301)


# --- webhook: answers and failures ---------------------------------------------------------


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_is_ok(hooked, receiver, status):
    receiver.status = status
    result = WebhookModule().add(hooked, "a")
    assert result.ok
    assert str(status) in result.message


@pytest.mark.parametrize("status", [500, 503, 404, 400, 410])
def test_other_statuses_fail_with_the_status(hooked, receiver, status):
    receiver.status = status
    result = WebhookModule().renew(hooked, "r")
    assert not result.ok
    assert f"HTTP {status}" in result.message
    assert "receiver says" in result.message
    assert len(receiver.requests) == 1


def test_redirects_are_not_followed(hooked, receiver):
    """A signed POST goes only to the configured URL: a 3xx is a failure, not a hop."""

    class Redirecting(BaseHTTPRequestHandler):
        status = 307

        def do_POST(self):
            self.send_response(self.status)
            self.send_header("Location", f"{receiver.url}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        hooked.package.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/"
        for status in (301, 302, 303, 307, 308):
            Redirecting.status = status
            result = WebhookModule().add(hooked, f"a-{status}")
            assert not result.ok
            assert f"HTTP {status}" in result.message
    finally:
        server.shutdown()
        server.server_close()
    assert receiver.requests == []  # nothing reached the Location


def test_connection_refused_is_not_ok(hooked):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        hooked.package.webhook_url = f"http://127.0.0.1:{closed.getsockname()[1]}/"
        result = WebhookModule(timeout=2).add(hooked, "a")
    assert not result.ok
    assert "refused" in result.message.lower()


def test_timeout_is_not_ok(hooked, receiver):
    receiver.hold = True
    started = time.monotonic()
    result = WebhookModule(timeout=0.3).renew(hooked, "r")
    elapsed = time.monotonic() - started
    receiver.release.set()
    assert not result.ok
    assert result.message == "webhook timed out after 0.3 s"
    assert elapsed < 3
    assert len(receiver.requests) == 1  # it was delivered, the answer never came


def test_default_timeout_is_ten_seconds():
    assert get_module("webhook").timeout == 10


@pytest.mark.parametrize(
    "url, secret, message",
    [("", SECRET, "no http(s) webhook URL"), ("file:///etc/passwd", SECRET, "no http(s)"),
     ("http://", SECRET, "no http(s)"), ("RECEIVER", "", "no webhook secret")],
)  # fmt: skip
def test_unusable_package_settings_fail_without_a_request(hooked, receiver, url, secret, message):
    hooked.package.webhook_url = url.replace("RECEIVER", receiver.url)
    hooked.package.webhook_secret = secret
    result = WebhookModule().add(hooked, "a")
    assert not result.ok
    assert message in result.message
    assert receiver.requests == []


def test_unresolvable_host_is_not_ok(hooked):
    hooked.package.webhook_url = "http://groupbill-receiver.invalid/hook"
    result = WebhookModule(timeout=2).add(hooked, "a")
    assert not result.ok
    assert result.message.startswith("webhook unreachable")


def test_the_readme_verification_example_works(hooked, receiver):
    """The receiver-side example in README.md accepts what the module sends, only that."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Provisioning webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)
    verify = namespace["verify"]

    assert WebhookModule().renew(hooked, "r").ok
    [request] = receiver.requests
    header, body = request["headers"]["Groupbill-Signature"], request["body"]
    assert verify(SECRET, header, body)
    assert not verify("whsec_wrong", header, body)
    assert not verify(SECRET, header, body + b"\n")
    old = signature_header(SECRET, body, int(time.time()) - 301)
    assert not verify(SECRET, old, body)

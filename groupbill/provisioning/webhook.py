"""The `webhook` module: each effect is a signed JSON event POSTed to the package's
`webhook_url`; the receiver provisions and answers 2xx, or the effect failed.

Headers: `Content-Type: application/json`, `Groupbill-Event-Id: <key>` (the caller's
idempotency key, also the event's `id`: a retried effect carries the same id, so receivers
deduplicate on it) and `Groupbill-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed with the package's webhook_secret>` (groupbill.signing, shared with the
company's event webhooks). `verify_signature` is the check receivers make. Redirects are
not followed (a 3xx fails): a signed POST is only sent to the URL staff configured.

The signature time is the wall clock, not the engine's `as_of`: receivers compare it with
their own clock to refuse replays.
"""

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from groupbill.clients.models import Contact, ContactRole
from groupbill.provisioning.base import ModuleResult
from groupbill.signing import SIGNATURE_TOLERANCE as SIGNATURE_TOLERANCE
from groupbill.signing import signature_header
from groupbill.signing import verify_signature as verify_signature

if TYPE_CHECKING:
    from groupbill.catalog.models import Package
    from groupbill.services.models import Service

DEFAULT_TIMEOUT = 10.0  # seconds, for connecting and for each read
USER_AGENT = "Groupbill-Webhook/1"


def build_event(
    event_type: str,
    service: "Service",
    key: str,
    created: int,
    old_package: "Package | None" = None,
) -> dict[str, Any]:
    client = service.client
    options = service.options.select_related("option", "value").order_by("pk")
    email = (
        Contact.objects.filter(client_id=client.pk, role=ContactRole.PRIMARY)
        .values_list("email", flat=True)
        .first()
    )
    event: dict[str, Any] = {
        "id": key,
        "type": event_type,
        "created": created,
        "service": {
            "id": service.pk,
            "status": service.status,
            "package_id": service.package_id,
            "package_name": service.package.name,
            "quantity": service.quantity,
            "renew_date": service.renew_date.isoformat() if service.renew_date else None,
            "parent_id": service.parent_id,
            "options": [
                {
                    "option": o.option.name,
                    "value": o.value.name,
                    "quantity": o.quantity,
                    "option_id": o.option_id,
                    "value_id": o.value_id,
                }
                for o in options
            ],
        },
        "client": {
            "id": client.pk,
            "company_id": client.company_id,
            "group_id": client.group_id,
            "email": email or None,
        },
    }
    if old_package is not None:
        event["old_package"] = {"id": old_package.pk, "name": old_package.name}
    return event


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx status


class WebhookModule:
    name = "webhook"
    live = True
    calls_out = True

    def __init__(
        self, timeout: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.time
    ) -> None:
        self.timeout = timeout
        self.clock = clock

    def add(self, service: "Service", key: str) -> ModuleResult:
        return self.send("service.add", service, key)

    def renew(self, service: "Service", key: str) -> ModuleResult:
        return self.send("service.renew", service, key)

    def suspend(self, service: "Service", key: str) -> ModuleResult:
        return self.send("service.suspend", service, key)

    def unsuspend(self, service: "Service", key: str) -> ModuleResult:
        return self.send("service.unsuspend", service, key)

    def cancel(self, service: "Service", key: str) -> ModuleResult:
        return self.send("service.cancel", service, key)

    def change_package(self, service: "Service", old_package: "Package", key: str) -> ModuleResult:
        """Sent to the webhook of the service's (new) package."""
        return self.send("service.change_package", service, key, old_package)

    def send(
        self,
        event_type: str,
        service: "Service",
        key: str,
        old_package: "Package | None" = None,
    ) -> ModuleResult:
        package = service.package
        url, secret = package.webhook_url, package.webhook_secret
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return ModuleResult(False, f"package {package.name!r} has no http(s) webhook URL")
        if not secret:
            return ModuleResult(
                False, f"package {package.name!r} has no webhook secret to sign events with"
            )
        created = int(self.clock())
        event = build_event(event_type, service, key, created, old_package)
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Groupbill-Event-Id": key,
            "Groupbill-Signature": signature_header(secret, body, created),
        }
        return self._post(url, body, headers)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> ModuleResult:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        opener = urllib.request.build_opener(_RefuseRedirects)  # proxies from the environment
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            with error:
                return ModuleResult(False, f"webhook answered HTTP {error.code}{_excerpt(error)}")
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                return self._timed_out()
            return ModuleResult(False, f"webhook unreachable: {error.reason}")
        except TimeoutError:
            return self._timed_out()
        except (OSError, http.client.HTTPException, ValueError) as error:
            return ModuleResult(False, f"webhook failed: {type(error).__name__}: {error}")
        if 200 <= status < 300:
            return ModuleResult(True, f"webhook answered HTTP {status}")
        return ModuleResult(False, f"webhook answered HTTP {status}")

    def _timed_out(self) -> ModuleResult:
        return ModuleResult(False, f"webhook timed out after {self.timeout:g} s")


def _excerpt(error: urllib.error.HTTPError) -> str:
    """The start of an error response, for the service history."""
    try:
        text = error.read(200).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
    text = " ".join(text.split())
    return f": {text}" if text else ""

"""The webhook sender: POSTs each due WebhookDelivery, run with the outbox
(notices.sender.deliver: `groupbill deliver`, the scheduler, the worker).

Like an email, a delivery is claimed (notices.claims), POSTed outside any transaction,
and its outcome then settled: a 2xx answer → `sent`, never sent again unless staff ask
(redeliver); any other answer, a refused connection or a timeout → pending again, backed
off 1, 2, 4 ... minutes (at most an hour), `failed` after 8 attempts. A timeout is retried
(unlike an email's lost connection) because every event carries its `id`, on which
receivers deduplicate. Each POST is logged (WebhookAttempt) with the status and the start
of the response body.

Headers: `Content-Type: application/json`, `Groupbill-Event-Id`, `Groupbill-Event-Type`,
`Groupbill-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (groupbill.signing,
the provisioning webhooks' scheme) keyed with the endpoint's secret; signed at each attempt,
so the time is fresh."""

import http.client
import json
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from groupbill.external import ensure_outside_transaction
from groupbill.notices import claims
from groupbill.notices.models import MessageStatus, WebhookAttempt, WebhookDelivery
from groupbill.signing import signature_header

TIMEOUT = 10.0  # seconds, for connecting and for each read
USER_AGENT = "Groupbill-Webhooks/1"
EXCERPT = 500


@dataclass(frozen=True)
class Response:
    code: int | None  # None: no HTTP answer (error says why)
    excerpt: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a signed POST goes only to the URL staff configured


def _text(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", "replace").split())[:EXCERPT]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Response:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_RefuseRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            return Response(response.status, _text(response.read(EXCERPT * 4)))
    except urllib.error.HTTPError as error:
        with error:
            try:
                excerpt = _text(error.read(EXCERPT * 4))
            except (OSError, http.client.HTTPException):
                excerpt = ""
            return Response(error.code, excerpt)
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            return Response(None, error=f"timed out after {timeout:g} s")
        return Response(None, error=f"unreachable: {error.reason}")
    except TimeoutError:
        return Response(None, error=f"timed out after {timeout:g} s")
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Response(None, error=f"{type(error).__name__}: {error}")


def request_of(delivery: WebhookDelivery, secret: str, timestamp: int) -> tuple[bytes, dict]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Groupbill-Event-Id": delivery.event_id,
        "Groupbill-Event-Type": delivery.event_type,
        "Groupbill-Signature": signature_header(secret, body, timestamp),
    }
    return body, headers


def _settle(delivery: WebhookDelivery, now: datetime, response: Response) -> str:
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "claimed_at": None, "redeliver_requested": False,
              "response_code": response.code, "response_excerpt": response.excerpt}  # fmt: skip
    if response.ok:
        outcome = "sent"
        fields.update(status=MessageStatus.SENT, sent_at=now, next_attempt_at=None, last_error="")
    else:
        error = response.error or f"answered HTTP {response.code}"
        fields.update(claims.retry_or_give_up(attempts, now, error))
        outcome = "failed" if fields["status"] == MessageStatus.FAILED else "retry"
    with transaction.atomic():
        if not WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields):
            return "deleted"  # its endpoint was deleted while it was being sent
        WebhookAttempt.objects.create(
            delivery_id=delivery.pk, at=now, response_code=response.code,
            response_excerpt=response.excerpt, error=response.error[:500],
            redelivery=delivery.redeliver_requested,
        )  # fmt: skip
    return outcome


def send_one(pk: int, now: datetime, poster: Callable = post, clock=time.time) -> str:
    """POST one claimed delivery and settle it."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=pk).first()
    if delivery is None:
        return "deleted"  # with its endpoint, after the claim
    body, headers = request_of(delivery, delivery.endpoint.secret, int(clock()))
    ensure_outside_transaction("A webhook POST")
    return _settle(delivery, now, poster(delivery.endpoint.url, body, headers))


def deliver(now: datetime, poster: Callable = post, limit: int | None = None) -> Counter:
    """POST every due pending delivery once; returns how each ended."""
    counts: Counter = Counter()
    counts["expired"] = claims.expire_stale_claims(
        WebhookDelivery, now, "the sender stopped while sending (claim older than 10 minutes); "
        "the receiver may or may not have it: redeliver if it did not",
    )  # fmt: skip
    while limit is None or counts.total() - counts["expired"] < limit:
        pk = claims.claim_next(WebhookDelivery, now)
        if pk is None:
            break
        counts[send_one(pk, now, poster)] += 1
    return counts

"""Absolute links to portal pages, for emails. One builder for every caller: the portal's own
reset page, the staff's client page and the API."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from groupbill.errors import ValidationFailed

LinkFor = Callable[[str, str], str]


def reset_link_builder(request: HttpRequest | None = None) -> LinkFor:
    """`link_for(uid, token)` for a set-password link: on GROUPBILL_PORTAL_URL when set, else
    on the address `request` came to. Without a request (the API, the command line) the
    address must be configured: a 422 on field "portal_url" when it is not."""
    base = settings.PORTAL_BASE_URL
    if not base and request is None:
        raise ValidationFailed.one(
            "portal_url",
            "links to the portal need its address: set GROUPBILL_PORTAL_URL "
            "(e.g. https://billing.example.com)",
        )

    def link(uid: str, token: str) -> str:
        path = reverse("portal:reset_confirm", kwargs={"uid": uid, "token": token})
        return f"{base}{path}" if base else request.build_absolute_uri(path)

    return link

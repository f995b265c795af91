"""Which address a request comes from, for sign-in and API-key limits: REMOTE_ADDR, or
behind a proxy the header GROUPBILL_CLIENT_ADDRESS_HEADER names."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    header = settings.CLIENT_ADDRESS_HEADER
    forwarded = request.META.get(header, "") if header else ""
    # A proxy appends the address it saw to what the client sent: only the last entry is
    # the proxy's word, earlier ones are whatever the client wrote.
    return forwarded.split(",")[-1].strip() or request.META.get("REMOTE_ADDR", "")

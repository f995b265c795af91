"""Posted actions on admin and portal pages: the action's own words, or its refusal, become
the message shown on the page the browser is sent to next."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest

from groupbill.errors import DomainError


def run_posted(request: HttpRequest, act: Callable[[], str]) -> bool:
    """Run `act`; its result is a success message, a domain refusal an error message.
    True when it succeeded."""
    try:
        messages.success(request, act())
    except DomainError as exc:
        messages.error(request, exc.message)
        return False
    return True

from collections.abc import Callable
from typing import Any

from groupbill.automation.view import CompanyView
from groupbill.clients.models import Client
from groupbill.errors import Conflict

ENGINE = "engine"


def client_groups(view: CompanyView) -> dict[int, int]:
    """client id -> group id for the view's clients: one query."""
    clients = view.scoped(Client.objects.filter(company=view.company), "pk")
    return dict(clients.values_list("pk", "group_id"))


def unless_done(still_to_do: Callable[[], bool], do: Callable[[], Any]) -> bool:
    """Do it if it is still to do: True when done now, False when it was done already,
    also by another run between this look and the action's own lock (its refusal then
    only says what is already so: a skip, not a failure)."""
    if not still_to_do():
        return False
    try:
        do()
    except Conflict:
        if not still_to_do():
            return False
        raise
    return True

from collections.abc import Callable
from typing import Any

from groupbill.errors import Conflict

ENGINE = "engine"


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

"""Named implementations of a boundary (payment gateways, provisioning modules): looked up
by the name stored on a row, and replaceable for a block of code (dry runs)."""

import contextlib
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Generic, TypeVar

from groupbill.errors import ValidationFailed

T = TypeVar("T")


def available(implementation: object) -> bool:
    """An implementation that needs configuration (a gateway's keys) says whether it has
    it with an `available` attribute; without one it is always there."""
    return bool(getattr(implementation, "available", True))


class Registry(Generic[T]):
    def __init__(self, kind: str, implementations: Iterable[T]):
        self.kind = kind  # also the field an unknown name is reported on
        self.by_name: dict[str, T] = {impl.name: impl for impl in implementations}
        self.known: tuple[str, ...] = tuple(self.by_name)  # configured or not
        self._override: ContextVar[Callable[[str], T] | None] = ContextVar(
            f"{kind}_override", default=None
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names that can be used now (an unconfigured implementation is unknown)."""
        return tuple(name for name, impl in self.by_name.items() if available(impl))

    def get(self, name: str) -> T:
        found = self.by_name.get(name) if isinstance(name, str) else None
        if found is None or not available(found):
            raise ValidationFailed.one(
                self.kind, f"Unknown {self.kind} {name!r}; choose one of: {', '.join(self.names)}."
            )
        factory = self._override.get()
        return found if factory is None else factory(name)

    @contextlib.contextmanager
    def override(self, factory: Callable[[str], T]):
        """Within the block, every lookup answers factory(name) instead."""
        token = self._override.set(factory)
        try:
            yield
        finally:
            self._override.reset(token)

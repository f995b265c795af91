"""Python's cycle collector paused while a shard works.

A shard allocates hundreds of thousands of containers that live through a batch (rows,
lines, actions); surviving them, they trigger full collections, each of which walks every
object of the process (the apps, the settings, the batch). That was a sixth of a run's
CPU on 100,000 services. The engine's rows are freed by reference counting as each batch
ends: what cyclic garbage a shard leaves is collected once the collector runs again,
after the shard, so memory stays bounded by one shard."""

import contextlib
import gc


@contextlib.contextmanager
def paused():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

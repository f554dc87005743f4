"""The cyclic garbage collector paused while the pipeline and its indexes are built.

Building the pipeline and reading its stored indexes make hundreds of thousands of objects that
all live on; the collector, triggered every few hundred allocations, scans the growing heap again
and again for cycles it will not find (0.45 s of the 2.4 s a process waits before its first letter
is parsed, on the development machine). It is paused for those steps and resumed after them, as it
was; the few cycles they leave are collected at the collector's next pass. The switch is the
interpreter's, not a thread's: another thread's collections wait for the pause too, and a process
forked during one starts with the collector off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the collector for the block; resume it after, if it was running (nested blocks and
    a collector the caller turned off are left to their owner)."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()

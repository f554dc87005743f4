"""Parse many letters across processes, in order, with a bounded number of letters in flight.

Each worker process loads the pipeline once (with the "fork" start method it inherits the
parent's) and turns whole letters into Determinations, reading PDF files itself, so text
extraction runs in parallel too. Work is sent in chunks and at most ``2 * n_process`` chunks
are outstanding, so memory stays flat however long the input iterator is; results come back
in input order. An item that fails yields its error record (``imr_nlp.batches.error_record``).

Counts in equal counts out even when a worker dies (killed, out of memory, a crash in a native
library): the pool is rebuilt, the chunk that was running is parsed again one item per task,
and the item that kills a worker a second time gets an error record. Workers end with their
parent (Linux: a parent-death signal), so a stopped run leaves no orphans.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from spacy.util import minibatch

from imr_nlp.models import Determination

_PR_SET_PDEATHSIG = 1


def _parse_chunk(chunk: list[tuple[int, object]], ocr: str = "auto") -> list[Determination]:
    from imr_nlp.batches import parse_chunk

    return parse_chunk(chunk, ocr)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix" else None)


def _end_with_parent() -> None:
    """Ask the kernel to send SIGTERM to this worker when its parent dies (Linux only)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _warm_up(parent: int) -> None:
    _end_with_parent()
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    from imr_nlp.loading import load

    load()
    # The pipeline and its tables (about a million objects, inherited from the parent or just
    # loaded) live as long as the worker: out of the collector's reach, its full collections
    # neither traverse them again and again nor, by writing to them, copy the pages a forked
    # worker shares with its parent (the use CPython documents for gc.freeze).
    gc.freeze()


def _new_pool(n_process: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=n_process, mp_context=_context(), initializer=_warm_up, initargs=(os.getpid(),)
    )


def _died(chunk: list[tuple[int, object]]) -> list[Determination]:
    from imr_nlp.batches import error_record

    return [
        error_record(item, index, "a worker process died while parsing it (killed, out of memory or crashed)")
        for index, item in chunk
    ]


def parse_parallel(
    numbered: Iterable[tuple[int, object]], n_process: int, chunk_size: int = 16, ocr: str = "auto"
) -> Iterator[Determination]:
    """Determinations of the ``(index, item)`` pairs of ``numbered`` (``imr_nlp.batches.numbered_items``)
    in order, parsed by ``n_process`` worker processes (PDF pages OCR'd by ``ocr``)."""
    from imr_nlp.loading import warm_up

    warm_up()  # build once in the parent, lazy tables included: forked workers inherit them
    pool = _new_pool(n_process)
    pending: deque[tuple[list, Future]] = deque()
    finished = False
    try:
        for chunk in minibatch(numbered, size=chunk_size):
            pending.append((chunk, pool.submit(_parse_chunk, chunk, ocr)))
            while len(pending) > 2 * n_process:
                pool = yield from _next_results(pending, pool, n_process, ocr)
        while pending:
            pool = yield from _next_results(pending, pool, n_process, ocr)
        finished = True
    finally:
        # An idle pool is shut down and waited for: left running (wait=False), its manager
        # thread may close its wake-up pipe while the interpreter's exit hook still writes to
        # it ("OSError: Bad file descriptor" printed at exit; CPython gh-83279). A run stopped
        # early does not wait for the chunks in flight.
        pool.shutdown(wait=finished, cancel_futures=True)


def _next_results(pending: deque, pool: ProcessPoolExecutor, n_process: int, ocr: str = "auto"):
    """Yield the oldest chunk's results; after a worker's death, rebuild the pool, parse that
    chunk again item by item and resubmit the chunks behind it. Returns the pool in use."""
    chunk, future = pending.popleft()
    try:
        yield from future.result()
        return pool
    except BrokenProcessPool:
        pass
    pool.shutdown(wait=False, cancel_futures=True)
    pool = _new_pool(n_process)
    for index, item in chunk:  # alone, so only the item that kills a worker loses its record
        try:
            yield from pool.submit(_parse_chunk, [(index, item)], ocr).result()
        except BrokenProcessPool:
            yield from _died([(index, item)])
            pool.shutdown(wait=False, cancel_futures=True)
            pool = _new_pool(n_process)
    waiting = [c for c, _ in pending]
    pending.clear()
    pending.extend((c, pool.submit(_parse_chunk, c, ocr)) for c in waiting)
    return pool

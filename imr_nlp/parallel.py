"""Parse many letters across processes, in order, with a bounded number of letters in flight.

Each worker process loads the pipeline once (with the "fork" start method it inherits the
parent's) and turns whole letters into Determinations, reading PDF files itself, so text
extraction runs in parallel too. Work is sent in chunks and at most ``2 * n_process`` chunks
are outstanding, so memory stays flat however long the input iterator is; results come back
in input order. An item that fails yields its error record (``imr_nlp.api.error_record``).
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

from spacy.util import minibatch

from imr_nlp.models import Determination


def _parse_chunk(chunk: list[tuple[int, object]]) -> list[Determination]:
    from imr_nlp.api import _parse_chunk as parse_chunk

    return parse_chunk(chunk)


def _context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix" else None)


def _warm_up() -> None:
    from imr_nlp.api import load

    load()


def parse_parallel(items: Iterable, n_process: int, chunk_size: int = 16) -> Iterator[Determination]:
    """Determinations of ``items`` in order, parsed by ``n_process`` worker processes.

    A worker that dies (killed, out of memory, a crash in a native library) raises
    ``concurrent.futures.process.BrokenProcessPool`` here instead of hanging.
    """
    from imr_nlp.api import load

    load()  # build once in the parent: forked workers inherit it
    with ProcessPoolExecutor(max_workers=n_process, mp_context=_context(), initializer=_warm_up) as pool:
        pending: deque = deque()
        for chunk in minibatch(enumerate(items), size=chunk_size):
            pending.append(pool.submit(_parse_chunk, chunk))
            while len(pending) > 2 * n_process:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

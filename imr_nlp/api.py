"""The public API: load, parse, parse_file, parse_many (a DeterminationStream), assert_spans. Thin: no NLP
logic here."""

from __future__ import annotations

import logging
import multiprocessing
import operator
import os
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path

from spacy.tokens import Span
from spacy.util import minibatch

from imr_nlp import errors
from imr_nlp.assemble import assertion_fields
from imr_nlp.batches import (
    InputIteratorError,
    check_items,
    error_record,
    internal_error,
    item_result,
    item_text,
    names_a_letter_file,
    numbered_items,
    parse_chunk,
    parse_text,
    plain_item,
)
from imr_nlp.errors import InputError
from imr_nlp.io import LetterText, check_ocr, letter_identity, read_letter_file
from imr_nlp.loading import MAX_NEW_STRINGS, load, pipeline, reset, warm_up
from imr_nlp.models import Assertions, Determination, Treatment

logger = logging.getLogger("imr_nlp")

# Names of the batch and loading modules that belong to the API too (``imr_nlp.api.load``, its
# error records), kept here so that code written against the API reads them where it did.
__all__ = [
    "MAX_NEW_STRINGS",
    "DeterminationStream",
    "InputError",
    "InputIteratorError",
    "LetterText",
    "assert_spans",
    "default_workers",
    "error_record",
    "internal_error",
    "item_result",
    "item_text",
    "load",
    "names_a_letter_file",
    "numbered_items",
    "parse",
    "parse_chunk",
    "parse_file",
    "parse_many",
    "parse_request",
    "parse_text",
    "plain_item",
    "reset",
    "usable_cores",
    "warm_up",
]


def _check_text(text) -> str:
    if not isinstance(text, str):
        hint = (
            " (a file: use imr_nlp.parse_file)"
            if isinstance(text, Path)
            else " (a PDF's bytes: imr_nlp.parse(imr_nlp.io.read_pdf_bytes(data)); a text file's: decode them)"
            if isinstance(text, (bytes, bytearray))
            else ""
        )
        raise TypeError(f"imr_nlp.parse expects a str, got {type(text).__name__}{hint}")
    return text


def parse(text: str) -> Determination:
    """Parse the text of one IMR final determination letter.

    Raises TypeError for anything but a ``str``, and nothing for any ``str``: a text that is not
    a letter, or is cut short, gives what can be read plus warnings. Should the pipeline itself
    fail on a text (a bug), the Determination has ``error`` set and the traceback is logged to
    the "imr_nlp" logger. A one-line text naming a .pdf or .txt file gets a warning that points
    to ``parse_file``."""
    determination = parse_text(_check_text(text))
    if names_a_letter_file(text):
        determination.warnings.insert(0, errors.warning("W015", name=text.strip()))
    return determination


# The components that read a request, in pipeline order (parse_request runs only these).
REQUEST_COMPONENTS = ("imr_dates", "imr_drugs", "imr_doses", "imr_services", "imr_context")


def parse_request(text: str) -> Treatment:
    """Parse one treatment request as it would appear as a disputed item ("Norco 10/325mg #120",
    "MRI of the lumbar spine without contrast", "Bilateral L4-5 and L5-S1 medial branch blocks")
    from any source (utilization review logs, claims systems): the same components and
    assembly as the items of a letter. Offsets in ``drug`` point into ``text``.

    Raises TypeError for anything but a ``str``."""
    if not isinstance(text, str):
        raise TypeError(f"imr_nlp.parse_request expects a str, got {type(text).__name__}")
    from imr_nlp.assemble import request_treatment
    from imr_nlp.extensions import set_spans

    nlp = pipeline()
    doc = nlp.make_doc(text)
    clean = doc.text
    decisions = nlp.get_pipe("imr_decisions")
    start, end, partial = decisions.request_bounds(clean)
    item = doc.char_span(start, end, label="unknown", alignment_mode="expand") if end > start else None
    if item is None:
        return Treatment()
    item._.decision = {"index": 0, "partial": partial, "medically_necessary": None}
    decisions.write_spans(doc, "items", [item])
    for group in ("sections", "diagnoses", "problems"):  # a request has none of these
        set_spans(doc, group, [])
    for name in REQUEST_COMPONENTS:
        if name in nlp.pipe_names:
            doc = nlp.get_pipe(name)(doc)
    return request_treatment(doc, item)


def parse_file(path: str | Path, ocr: str = "auto") -> Determination:
    """Parse a letter file (.txt or .pdf); InputError names the file when it cannot be read (a
    missing file's is a MissingFileError, also a FileNotFoundError; one the system will not read
    an UnreadableFileError, also an OSError).
    How the file was read, when it was not plain UTF-8 text or a .pdf PDF (an encoding guessed,
    a PDF under another name, pages without a text layer), is said in the warnings.

    ``ocr`` (the ``ocr`` extra: pytesseract and the tesseract program): with "auto" a PDF page
    that has no text layer is OCR'd (a page with text never is), with "always" every page, with
    "never" none; the pages OCR'd are in ``ocr_pages``. Without the extra, "auto" names each
    page without text in a W023 warning, and "always" raises ``imr_nlp.io.OcrUnavailableError``."""
    check_ocr(ocr)
    letter = read_letter_file(path, ocr)
    determination = parse(letter.text)
    determination.source = letter_identity(path)
    determination.warnings.extend(letter.notes)
    determination.ocr_pages = letter.ocr_pages
    return determination


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask, which container and batch
    schedulers set), else the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_workers() -> int:
    """The worker count ``parse_many(n_process=None)`` starts from: one per usable core, none
    (1: this process) inside a worker process, which may not start its own."""
    if multiprocessing.current_process().daemon:
        return 1
    return usable_cores()


class DeterminationStream(Iterator[Determination]):
    """What ``parse_many`` returns: the Determinations in input order, each parsed as it is asked
    for, so memory stays flat on any length of input. Like any iterator it is read once; a
    second pass over it once spent (a second ``to_dataframe``, ``list`` or ``for`` over it)
    gives nothing, and says so with a ``SpentResultsWarning`` rather than an empty table in
    silence. To use the results more than once, keep them: ``list(imr_nlp.parse_many(...))``.
    ``close()`` stops the work early (worker processes included)."""

    def __init__(self, results: Iterator[Determination]) -> None:
        self._results = results
        self.spent = False  # the last result was given: a new pass gets nothing

    def __iter__(self) -> DeterminationStream:
        if self.spent:
            warnings.warn(
                "these parse_many results were all read already, so this pass gets none (an empty table or "
                "list): parse_many streams its results once; keep them with list(imr_nlp.parse_many(...)) "
                "to use them more than once",
                errors.SpentResultsWarning,
                stacklevel=_outside_package(),
            )
        return self

    def __next__(self) -> Determination:
        try:
            return next(self._results)
        except StopIteration:
            self.spent = True
            raise

    def close(self) -> None:
        """Stop parsing (worker processes end); the stream gives nothing more."""
        close = getattr(self._results, "close", None)
        if close is not None:
            close()
        self.spent = True


def _outside_package() -> int:
    """The ``stacklevel`` of the first caller outside imr_nlp (a warning then names the user's
    line, not the library's own call of ``iter``)."""
    import sys

    package = os.path.dirname(__file__)
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def parse_many(
    items: Iterable[str | Path], batch_size: int = 16, n_process: int | None = None, ocr: str = "auto"
) -> DeterminationStream:
    """Parse many letters (texts, or ``pathlib.Path`` files), giving Determinations in order, as
    a ``DeterminationStream``: parsed as they are asked for, read once (a second pass warns and
    gets nothing; keep them with ``list(parse_many(...))`` to use them twice). PDF pages without
    a text layer are OCR'd by ``ocr``, as in ``parse_file``.

    ``n_process=None`` (the default) uses one worker process per usable core
    (``usable_cores``), except for an input of fewer than two batches per worker, which is
    parsed in this process (starting workers would cost more than they save). With
    ``n_process=1`` the letters go through ``nlp.pipe`` in this process, ``batch_size`` at a
    time. With ``n_process > 1`` worker processes share the loaded pipeline and parse whole
    letters, PDF reading included, with at most a few batches in flight (flat memory on any
    length of input). An item that cannot be read or parsed still yields a Determination, with
    no data, ``error`` set (its path or index and the reason) and a warning that starts with
    "error:", so counts in equal counts out; the other items of its batch are not affected.
    A file's Determination has its path in ``source``. Bad arguments (one text instead of an
    iterable, a bad ``n_process`` or ``batch_size``) raise at the call.
    """
    if n_process is not None and (not isinstance(n_process, int) or isinstance(n_process, bool) or n_process < 1):
        raise ValueError(f"n_process must be a positive int or None (one per core), not {n_process!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    check_items(items)
    check_ocr(ocr)
    return DeterminationStream(_parsed(items, batch_size, n_process, ocr))


def _parsed(items: Iterable[str | Path], batch_size: int, n_process: int | None, ocr: str) -> Iterator[Determination]:
    """``parse_many``'s work, done as its results are asked for."""
    numbered = numbered_items(items)
    if n_process is None:
        n_process = default_workers()
        if n_process > 1:  # a short input is parsed here: look ahead two batches per worker
            head = list(islice(numbered, 2 * n_process * batch_size))
            if len(head) < 2 * n_process * batch_size:
                n_process = 1
            numbered = chain(head, numbered)
    if n_process > 1:
        from imr_nlp.parallel import parse_parallel

        yield from parse_parallel(numbered, n_process=n_process, chunk_size=batch_size, ocr=ocr)
        return
    for chunk in minibatch(numbered, size=batch_size):
        yield from parse_chunk(chunk, ocr)


def assert_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[Assertions]:
    """ConText assertions for character spans of concepts in ``text`` (for users with their own
    NER): the same cleaning, sentence splitting and ConText rules the pipeline uses."""
    from imr_nlp.normalize.text import OffsetMap

    text = _check_text(text)
    spans = [_check_span(text, span) for span in spans]
    nlp = load()
    doc = nlp.make_doc(text)
    omap = OffsetMap.from_dict(doc._.offset_map)
    doc = nlp.get_pipe("imr_sentences")(doc)
    targets: list[Span | None] = []
    for start, end in spans:
        span = None
        if end > start:
            # Map the first and the last character, so an end at a collapsed run of spaces stays put.
            clean_start, clean_end = _to_clean(omap, start), _to_clean(omap, end - 1) + 1
            span = doc.char_span(clean_start, clean_end, label="CONCEPT", alignment_mode="expand")
        targets.append(span)
    found = [t for t in targets if t is not None]
    context = nlp.get_pipe("imr_context")
    context.set_annotations(doc, context.match(doc, found))
    return [Assertions(**assertion_fields(span)) if span is not None else Assertions() for span in targets]


def _check_span(text: str, span) -> tuple[int, int]:
    try:
        start, end = (operator.index(x) for x in span)  # 3.7 is no offset: refused, not truncated
    except (TypeError, ValueError):
        raise TypeError(f"a span must be a (start, end) pair of ints, not {span!r}") from None
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {span!r} is outside the text (length {len(text)})")
    return start, end


def _to_clean(omap, orig_offset: int) -> int:
    """The cleaned-text offset of a source offset (the first clean char at or after it)."""
    best = max(0, bisect_right(omap.orig_starts, orig_offset) - 1)
    return omap.clean_starts[best] + (orig_offset - omap.orig_starts[best])

"""The public API: load, parse, parse_file, parse_many, assert_spans. Thin: no NLP logic here."""

from __future__ import annotations

import gc
import logging
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Span
from spacy.util import minibatch

from imr_nlp.assemble import assertion_fields
from imr_nlp.errors import InputError
from imr_nlp.io import read_letter
from imr_nlp.models import Assertions, Determination, Treatment

logger = logging.getLogger("imr_nlp")

_LOCK = threading.Lock()
_NLP: dict[str, Language] = {}
_BASE_STRINGS: dict[str, int] = {}

# spaCy 3.7 keeps every distinct token text it ever sees (its StringStore and Vocab grow for the
# life of a pipeline; memory zones came with spaCy 3.8, which medspaCy does not allow). Once a
# pipeline has learnt this many new strings, the API builds a fresh one (about 0.4 s) and frees
# the old, so a process parsing letters for days stays within a bounded memory (measured: at
# most about 160 MB above the loaded pipeline, with letters full of never-seen words).
MAX_NEW_STRINGS = 200_000


def _build(key: str) -> Language:
    if not key:
        from imr_nlp.pipeline import build

        return build()
    import spacy

    return spacy.load(key)


def load(path: str | Path | None = None) -> Language:
    """The imr_nlp spaCy pipeline, built once per process (or loaded from ``path``, a folder
    written by ``nlp.to_disk``). Its docs carry ``doc._.determination``.

    The parse functions replace it with a fresh copy once its vocabulary has grown by
    ``MAX_NEW_STRINGS``; a pipeline you hold keeps working (it just keeps its memory)."""
    key = str(path) if path is not None else ""
    with _LOCK:
        if key not in _NLP:
            _NLP[key] = _build(key)
            _BASE_STRINGS[key] = len(_NLP[key].vocab.strings)
        return _NLP[key]


def reset() -> None:
    """Forget the loaded pipelines and free their memory (the next call loads afresh): for a
    long-running service that wants its memory back between batches."""
    with _LOCK:
        _NLP.clear()
        _BASE_STRINGS.clear()
        _free_memory()


def _free_memory() -> None:
    """Collect the pipelines' reference cycles, then hand freed heap pages back to the OS
    (glibc's malloc_trim; elsewhere the memory is reused by the process instead)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _pipeline() -> Language:
    """The default pipeline for parsing, renewed when its vocabulary has outgrown the budget."""
    nlp = load()
    if len(nlp.vocab.strings) - _BASE_STRINGS.get("", 0) > MAX_NEW_STRINGS:
        with _LOCK:
            if _NLP.get("") is nlp:
                del nlp
                _NLP.pop("")  # should the build fail, the next load() builds again
                _free_memory()  # a pipeline is full of reference cycles: free the old one now
                _NLP[""] = _build("")
                _BASE_STRINGS[""] = len(_NLP[""].vocab.strings)
            nlp = _NLP[""]
    return nlp


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"imr_nlp.parse expects a str, got {type(text).__name__}")
    return text


def parse(text: str) -> Determination:
    """Parse the text of one IMR final determination letter.

    Raises TypeError for anything but a ``str``, and nothing for any ``str``: a text that is not
    a letter, or is cut short, gives what can be read plus warnings. Should the pipeline itself
    fail on a text (a bug), the Determination has ``error`` set and the traceback is logged to
    the "imr_nlp" logger."""
    return parse_text(_check_text(text))


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
    from imr_nlp.extensions import SPAN_GROUPS
    from imr_nlp.normalize.requests import request_bounds

    nlp = _pipeline()
    doc = nlp.make_doc(text)
    clean = doc.text
    start, end, partial = request_bounds(clean)
    item = doc.char_span(start, end, label="unknown", alignment_mode="expand") if end > start else None
    if item is None:
        return Treatment()
    item._.decision = {"index": 0, "partial": partial, "medically_necessary": None}
    doc.spans[SPAN_GROUPS["items"]] = [item]
    for name in REQUEST_COMPONENTS:
        if name in nlp.pipe_names:
            doc = nlp.get_pipe(name)(doc)
    return request_treatment(doc, item)


def parse_text(text: str, item: object = None, index: int | None = None) -> Determination:
    """One text through the pipeline; should the pipeline fail on it, the error record of
    ``item`` (the batch item the text came from, at ``index``), logged with its traceback."""
    try:
        return item_result(item, _pipeline()(text))
    except Exception as exc:  # noqa: BLE001 - never raise on a str; one letter must not kill a batch
        return internal_error(item, index, exc)


def internal_error(item: object, index: int | None, exc: Exception) -> Determination:
    """The error record of a text the pipeline failed on (logged with its traceback)."""
    where = str(item) if isinstance(item, Path) else f"item {index}" if index is not None else "a text"
    logger.error("imr_nlp failed on %s", where, exc_info=exc)
    return error_record(item, index, RuntimeError(f"internal error: {type(exc).__name__}: {exc}"))


def parse_file(path: str | Path) -> Determination:
    """Parse a letter file (.txt or .pdf); InputError names the file when it cannot be read."""
    determination = parse(read_letter(path))
    determination.source = str(path)
    return determination


def item_text(item: object, index: int) -> str:
    """The text of one ``parse_many`` item: a str as is, a ``pathlib.Path`` read from its file;
    InputError for a file that cannot be read, TypeError for anything else."""
    if isinstance(item, str):
        return item
    if isinstance(item, Path):
        return read_letter(item)
    raise TypeError(f"item {index}: expected str or pathlib.Path, got {type(item).__name__}")


def item_result(item: object, doc) -> Determination:
    """The Determination of a parsed batch item, with the file it came from."""
    determination = doc._.determination
    if isinstance(item, Path):
        determination.source = str(item)
    return determination


def error_record(item: object, index: int | None, problem: Exception | str) -> Determination:
    """The record of a batch item that could not be read or parsed: no data, the reason in
    ``error`` (a file's path, or the item's index, first) and in a warning starting "error:"."""
    message = str(problem)
    if isinstance(item, Path):
        source = str(item)
        if not message.startswith(source):
            message = f"{source}: {message}"
    else:
        source = None
        if index is not None and not message.startswith("item "):
            message = f"item {index}: {message}"
    return Determination(source=source, error=message, warnings=[f"error: {message}"])


def parse_many(items: Iterable[str | Path], batch_size: int = 16, n_process: int = 1) -> Iterator[Determination]:
    """Parse many letters (texts, or ``pathlib.Path`` files), yielding Determinations in order.

    With ``n_process=1`` the letters go through ``nlp.pipe`` in this process, ``batch_size`` at
    a time. With ``n_process > 1`` worker processes each load the pipeline once and parse whole
    letters, PDF reading included, with at most a few batches in flight (flat memory on any
    length of input). An item that cannot be read or parsed still yields a Determination, with
    no data, ``error`` set (its path or index and the reason) and a warning that starts with
    "error:", so counts in equal counts out; the other items of its batch are not affected.
    A file's Determination has its path in ``source``.
    """
    if not isinstance(n_process, int) or n_process < 1:
        raise ValueError(f"n_process must be a positive int, not {n_process!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
    if n_process > 1:
        from imr_nlp.parallel import parse_parallel

        yield from parse_parallel(items, n_process=n_process, chunk_size=batch_size)
        return
    for chunk in minibatch(enumerate(items), size=batch_size):
        yield from _parse_chunk(chunk)


def _parse_chunk(chunk: list[tuple[int, object]]) -> list[Determination]:
    """Determinations of one batch, in order: read every item, parse the readable ones together;
    if the batch fails, parse its items one by one so only the culprit becomes an error record."""
    results: dict[int, Determination] = {}
    readable = []
    for index, item in chunk:
        try:
            readable.append((item_text(item, index), (index, item)))
        except (InputError, TypeError) as exc:
            results[index] = error_record(item, index, exc)
    try:
        for doc, (index, item) in _pipeline().pipe(readable, as_tuples=True, batch_size=len(chunk)):
            results[index] = item_result(item, doc)
    except Exception:  # noqa: BLE001 - isolate the item that broke the batch
        for text, (index, item) in readable:
            results[index] = parse_text(text, item, index)
    return [results[index] for index, _ in chunk]


def assert_spans(text: str, spans: Iterable[tuple[int, int]]) -> list[Assertions]:
    """ConText assertions for character spans of concepts in ``text`` (for users with their own
    NER): the same cleaning, sentence splitting and ConText rules the pipeline uses."""
    from imr_nlp.normalize.text import OffsetMap

    nlp = load()
    spans = [_check_span(text, span) for span in spans]
    doc = nlp.make_doc(_check_text(text))
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
        start, end = (int(x) for x in span)
    except (TypeError, ValueError):
        raise TypeError(f"a span must be a (start, end) pair of ints, not {span!r}") from None
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"span {span!r} is outside the text (length {len(text)})")
    return start, end


def _to_clean(omap, orig_offset: int) -> int:
    """The cleaned-text offset of a source offset (the first clean char at or after it)."""
    best = max(0, bisect_right(omap.orig_starts, orig_offset) - 1)
    return omap.clean_starts[best] + (orig_offset - omap.orig_starts[best])

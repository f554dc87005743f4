"""The public API: load, parse, parse_file, parse_many, assert_spans. Thin: no NLP logic here."""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Span

from imr_nlp.assemble import assertion_fields
from imr_nlp.errors import InputError
from imr_nlp.io import read_letter
from imr_nlp.models import Assertions, Determination

_LOCK = threading.Lock()
_NLP: dict[str, Language] = {}


def load(path: str | Path | None = None) -> Language:
    """The imr_nlp spaCy pipeline, built once per process (or loaded from ``path``, a folder
    written by ``nlp.to_disk``). Its docs carry ``doc._.determination``."""
    key = str(path) if path is not None else ""
    with _LOCK:
        if key not in _NLP:
            if path is None:
                from imr_nlp.pipeline import build

                _NLP[key] = build()
            else:
                import spacy

                _NLP[key] = spacy.load(path)
        return _NLP[key]


def _check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"imr_nlp.parse expects a str, got {type(text).__name__}")
    return text


def parse(text: str) -> Determination:
    """Parse the text of one IMR final determination letter."""
    return load()(_check_text(text))._.determination


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


def error_record(item: object, index: int, exc: Exception) -> Determination:
    """The record of a batch item that could not be read or parsed: no data, the reason in
    ``error`` (a file's path, or the item's index, first) and in a warning starting "error:"."""
    message = str(exc)
    if isinstance(item, Path):
        source = str(item)
        if not message.startswith(source):
            message = f"{source}: {message}"
    else:
        source = None
        if not message.startswith("item "):
            message = f"item {index}: {message}"
    return Determination(source=source, error=message, warnings=[f"error: {message}"])


def _texts(items: Iterable) -> Iterator[tuple[str, tuple[int, object, Exception | None]]]:
    for index, item in enumerate(items):
        try:
            yield item_text(item, index), (index, item, None)
        except (InputError, TypeError) as exc:
            yield "", (index, item, exc)


def parse_many(items: Iterable[str | Path], batch_size: int = 16, n_process: int = 1) -> Iterator[Determination]:
    """Parse many letters (texts, or ``pathlib.Path`` files), yielding Determinations in order.

    With ``n_process=1`` this is ``nlp.pipe`` in this process. With ``n_process > 1`` worker
    processes each load the pipeline once and parse whole letters, PDF reading included, with
    at most a few batches in flight (flat memory on any length of input). An item that cannot
    be read still yields a Determination, with no data, ``error`` set (its path or index and
    the reason) and a warning that starts with "error:", so counts in equal counts out.
    A file's Determination has its path in ``source``.
    """
    if not isinstance(n_process, int) or n_process < 1:
        raise ValueError(f"n_process must be a positive int, not {n_process!r}")
    if n_process > 1:
        from imr_nlp.parallel import parse_parallel

        yield from parse_parallel(items, n_process=n_process, chunk_size=batch_size)
        return
    docs = load().pipe(_texts(items), batch_size=batch_size, as_tuples=True)
    for doc, (index, item, exc) in docs:
        yield error_record(item, index, exc) if exc is not None else item_result(item, doc)


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

"""The public API: load, parse, parse_file, parse_many, assert_spans. Thin: no NLP logic here."""

from __future__ import annotations

import gc
import logging
import multiprocessing
import operator
import os
import threading
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Span
from spacy.util import minibatch

from imr_nlp.assemble import assertion_fields
from imr_nlp.errors import InputError
from imr_nlp.io import LetterText, letter_identity, read_letter_file
from imr_nlp.models import Assertions, Determination, Treatment

logger = logging.getLogger("imr_nlp")

_LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked worker gets a lock of its own: one inherited while another thread of the parent
    held it (inside ``reset()`` or a renewal) would never be released in the child."""
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)
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
    nlp = _NLP.get(key)  # loaded already: no lock needed to read it
    if nlp is not None:
        return nlp
    with _LOCK:
        if key not in _NLP:
            _NLP[key] = _build(key)
            _BASE_STRINGS[key] = len(_NLP[key].vocab.strings)
        return _NLP[key]


# A few lines that make every lazily built table get built: the ICD-10-CM index (a diagnosis),
# the misspelt-drug index (a misspelling), the date tables.
_WARM_UP_TEXT = (
    "Date of Injury: 01/02/2015\nThe injured worker was diagnosed with lumbar radiculopathy and "
    "takes Klonipin and Norco 10/325mg #120.\n"
)


def warm_up() -> Language:
    """Load the pipeline and build the tables it builds on first use (about 10 s once per
    process): before forking workers, so they share them instead of each building its own."""
    nlp = load()
    parse(_WARM_UP_TEXT)
    return nlp


def reset() -> None:
    """Forget the loaded pipelines and free their memory (the next call loads afresh): for a
    long-running service that wants its memory back between batches."""
    from imr_nlp.normalize.drugs import default_lexicon

    with _LOCK:
        _NLP.clear()
        _BASE_STRINGS.clear()
        default_lexicon.cache_clear()  # the drug-name index (the pipelines held it too)
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
        determination.warnings.insert(0, f"the text is a file name ({text.strip()}): use imr_nlp.parse_file")
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
    from imr_nlp.extensions import SPAN_GROUPS

    nlp = _pipeline()
    doc = nlp.make_doc(text)
    clean = doc.text
    start, end, partial = nlp.get_pipe("imr_decisions").request_bounds(clean)
    item = doc.char_span(start, end, label="unknown", alignment_mode="expand") if end > start else None
    if item is None:
        return Treatment()
    item._.decision = {"index": 0, "partial": partial, "medically_necessary": None}
    doc.spans[SPAN_GROUPS["items"]] = [item]
    for group in ("sections", "diagnoses", "problems"):  # a request has none of these
        doc.spans[SPAN_GROUPS[group]] = []
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
    """Parse a letter file (.txt or .pdf); InputError names the file when it cannot be read.
    How the file was read, when it was not plain UTF-8 text or a .pdf PDF (an encoding guessed,
    a PDF under another name), is said in the warnings."""
    letter = read_letter_file(path)
    determination = parse(letter.text)
    determination.source = letter_identity(path)
    determination.warnings.extend(letter.notes)
    return determination


def item_text(item: object, index: int) -> LetterText:
    """The text of one ``parse_many`` item: a str as is, a ``pathlib.Path`` read from its file;
    InputError for a file that cannot be read, TypeError for anything else."""
    if isinstance(item, str):
        if names_a_letter_file(item):
            raise InputError(
                Path(item.strip()),
                "a one-line text naming a letter file is not read as a letter: pass pathlib.Path(name), "
                "or use imr_nlp.parse_file",
            )
        return LetterText(item)
    if isinstance(item, Path):
        return read_letter_file(item)
    raise TypeError(f"item {index}: expected str or pathlib.Path, got {type(item).__name__}")


def names_a_letter_file(text: str) -> bool:
    """Whether a text is one line ending in .pdf or .txt: a file's name given as its text (a
    ``glob.glob`` result passed to ``parse_many``), never a letter."""
    stripped = text.strip()
    return "\n" not in stripped and len(stripped) < 4096 and stripped.lower().endswith((".pdf", ".txt"))


def plain_item(item: object) -> object:
    """A batch item as a plain ``str`` or ``Path`` (a subclass, whose pickling or methods could
    do anything in a worker, is copied to the base type); anything else is kept, to become its
    TypeError record."""
    if isinstance(item, str) and type(item) is not str:
        return str.__str__(item)
    if isinstance(item, Path) and type(item).__module__ != "pathlib":
        return Path(str(item))
    return item


class InputIteratorError(Exception):
    """The iterator of ``parse_many``'s items raised: its record ends the input."""


def numbered_items(items: Iterable) -> Iterator[tuple[int, object]]:
    """``(index, item)`` for each item; should the iterator itself raise, one last pair whose item
    is an InputIteratorError, so its record is counted and the input ends there."""
    if isinstance(items, (str, bytes)):
        raise TypeError("parse_many expects an iterable of letters (texts or paths), not one " + type(items).__name__)
    index = 0
    iterator = iter(items)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001 - a failing generator is a record, not a lost batch
            yield index, InputIteratorError(f"the input iterator failed: {type(exc).__name__}: {exc}")
            return
        yield index, plain_item(item)
        index += 1


def item_result(item: object, doc, notes: list[str] = ()) -> Determination:
    """The Determination of a parsed batch item, with the file it came from."""
    determination = doc._.determination
    if isinstance(item, Path):
        determination.source = letter_identity(item)
    determination.warnings.extend(notes)
    return determination


def error_record(item: object, index: int | None, problem: Exception | str) -> Determination:
    """The record of a batch item that could not be read or parsed: no data, the reason in
    ``error`` (a file's path, or the item's index, first) and in a warning starting "error:"."""
    message = str(problem)
    if isinstance(item, Path):
        source = letter_identity(item)
        if not message.startswith(str(item)):
            message = f"{item}: {message}"
    else:
        source = None
        if index is not None and not message.startswith("item "):
            message = f"item {index}: {message}"
    return Determination(source=source, error=message, warnings=[f"error: {message}"])


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


def parse_many(
    items: Iterable[str | Path], batch_size: int = 16, n_process: int | None = None
) -> Iterator[Determination]:
    """Parse many letters (texts, or ``pathlib.Path`` files), yielding Determinations in order.

    ``n_process=None`` (the default) uses one worker process per usable core
    (``usable_cores``), except for an input of fewer than two batches per worker, which is
    parsed in this process (starting workers would cost more than they save). With
    ``n_process=1`` the letters go through ``nlp.pipe`` in this process, ``batch_size`` at a
    time. With ``n_process > 1`` worker processes share the loaded pipeline and parse whole
    letters, PDF reading included, with at most a few batches in flight (flat memory on any
    length of input). An item that cannot be read or parsed still yields a Determination, with
    no data, ``error`` set (its path or index and the reason) and a warning that starts with
    "error:", so counts in equal counts out; the other items of its batch are not affected.
    A file's Determination has its path in ``source``.
    """
    if n_process is not None and (not isinstance(n_process, int) or isinstance(n_process, bool) or n_process < 1):
        raise ValueError(f"n_process must be a positive int or None (one per core), not {n_process!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
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

        yield from parse_parallel(numbered, n_process=n_process, chunk_size=batch_size)
        return
    for chunk in minibatch(numbered, size=batch_size):
        yield from _parse_chunk(chunk)


def _parse_chunk(chunk: list[tuple[int, object]]) -> list[Determination]:
    """Determinations of one batch, in order: read every item, parse the readable ones together;
    if the batch fails, parse its items one by one so only the culprit becomes an error record."""
    results: dict[int, Determination] = {}
    readable = []
    notes: dict[int, list[str]] = {}
    for index, item in chunk:
        if isinstance(item, InputIteratorError):
            results[index] = error_record(None, index, item)
            continue
        try:
            letter = item_text(item, index)
        except (InputError, TypeError) as exc:
            results[index] = error_record(item, index, exc)
            continue
        readable.append((letter.text, (index, item)))
        notes[index] = letter.notes
    try:
        for doc, (index, item) in _pipeline().pipe(readable, as_tuples=True, batch_size=len(chunk)):
            results[index] = item_result(item, doc, notes[index])
    except Exception:  # noqa: BLE001 - isolate the item that broke the batch
        for text, (index, item) in readable:
            results[index] = parse_text(text, item, index)
            results[index].warnings.extend(notes[index])
    return [results[index] for index, _ in chunk]


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

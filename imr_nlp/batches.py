"""Batch items (texts and files) into Determinations: reading each item, parsing a batch
together, and the error record of an item that could not be read or parsed. Shared by the API
(one process) and the worker pool (each worker), beneath both."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path

from imr_nlp.errors import InputError
from imr_nlp.io import LetterText, letter_identity, read_letter_file
from imr_nlp.loading import pipeline
from imr_nlp.models import Determination

logger = logging.getLogger("imr_nlp")


def parse_text(text: str, item: object = None, index: int | None = None) -> Determination:
    """One text through the pipeline; should the pipeline fail on it, the error record of
    ``item`` (the batch item the text came from, at ``index``), logged with its traceback."""
    try:
        return item_result(item, pipeline()(text))
    except Exception as exc:  # noqa: BLE001 - never raise on a str; one letter must not kill a batch
        return internal_error(item, index, exc)


def internal_error(item: object, index: int | None, exc: Exception) -> Determination:
    """The error record of a text the pipeline failed on (logged with its traceback)."""
    where = str(item) if isinstance(item, Path) else f"item {index}" if index is not None else "a text"
    logger.error("imr_nlp failed on %s", where, exc_info=exc)
    return error_record(item, index, RuntimeError(f"internal error: {type(exc).__name__}: {exc}"))


def item_text(item: object, index: int, ocr: str = "auto") -> LetterText:
    """The text of one ``parse_many`` item: a str as is, a ``pathlib.Path`` read from its file
    (PDF pages without text OCR'd by ``ocr``); InputError for a file that cannot be read,
    TypeError for anything else."""
    if isinstance(item, str):
        if names_a_letter_file(item):
            raise InputError(
                Path(item.strip()),
                "a one-line text naming a letter file is not read as a letter: pass pathlib.Path(name), "
                "or use imr_nlp.parse_file",
            )
        return LetterText(item)
    if isinstance(item, Path):
        return read_letter_file(item, ocr)
    raise TypeError(f"item {index}: expected str or pathlib.Path, got {type(item).__name__}")


def names_a_letter_file(text: str) -> bool:
    """Whether a text is one line ending in .pdf or .txt: a file's name given as its text (a
    ``glob.glob`` result passed to ``parse_many``), never a letter."""
    stripped = text.strip()
    return "\n" not in stripped and len(stripped) < 4096 and stripped.lower().endswith((".pdf", ".txt"))


def names_a_file(text: str) -> bool:
    """Whether a text is a file's name rather than a letter: one naming a .pdf or .txt file
    (``names_a_letter_file``), or one short line that is the path of an existing file."""
    if names_a_letter_file(text):
        return True
    stripped = text.strip()
    if not stripped or "\n" in stripped or "\x00" in stripped or len(stripped) >= 4096:
        return False
    try:
        return Path(stripped).is_file()
    except (OSError, ValueError):  # a name too long for the system, or otherwise not a path
        return False


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


def check_items(items: object) -> None:
    """TypeError for one text (or bytes, or path) where an iterable of letters is expected: its
    characters would be read as letters."""
    if isinstance(items, (str, bytes, bytearray, Path)):
        raise TypeError("parse_many expects an iterable of letters (texts or paths), not one " + type(items).__name__)


def numbered_items(items: Iterable) -> Iterator[tuple[int, object]]:
    """``(index, item)`` for each item; should the iterator itself raise, one last pair whose item
    is an InputIteratorError, so its record is counted and the input ends there."""
    check_items(items)
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


def item_result(item: object, doc, notes: list[str] = (), ocr_pages: list[int] = ()) -> Determination:
    """The Determination of a parsed batch item, with the file it came from, the notes on how
    it was read and the pages of it OCR'd."""
    determination = doc._.determination
    if isinstance(item, Path):
        determination.source = letter_identity(item)
    determination.warnings.extend(notes)
    determination.ocr_pages = list(ocr_pages)
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


def parse_chunk(chunk: list[tuple[int, object]], ocr: str = "auto") -> list[Determination]:
    """Determinations of one batch, in order: read every item (PDF pages OCR'd by ``ocr``), parse
    the readable ones together; if the batch fails, parse its items one by one so only the
    culprit becomes an error record."""
    results: dict[int, Determination] = {}
    readable = []
    letters: dict[int, LetterText] = {}
    for index, item in chunk:
        if isinstance(item, InputIteratorError):
            results[index] = error_record(None, index, item)
            continue
        try:
            letter = item_text(item, index, ocr)
        except (InputError, TypeError) as exc:
            results[index] = error_record(item, index, exc)
            continue
        readable.append((letter.text, (index, item)))
        letters[index] = letter
    if not readable:  # nothing to parse: the pipeline is not loaded for error records alone
        return [results[index] for index, _ in chunk]
    try:
        for doc, (index, item) in pipeline().pipe(readable, as_tuples=True, batch_size=len(chunk)):
            results[index] = item_result(item, doc, letters[index].notes, letters[index].ocr_pages)
    except Exception:  # noqa: BLE001 - isolate the item that broke the batch
        for text, (index, item) in readable:
            results[index] = parse_text(text, item, index)
            results[index].warnings.extend(letters[index].notes)
            results[index].ocr_pages = list(letters[index].ocr_pages)
    return [results[index] for index, _ in chunk]

"""Errors, and every warning a Determination can carry with its stable code, in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass


class InputError(ValueError):
    """A file or input that cannot be read as an IMR letter (missing, unreadable, corrupt...).
    A file that is not there is a ``MissingFileError``, one the system cannot read an
    ``UnreadableFileError``: both are InputErrors and ``OSError``s, so either catch works."""

    def __init__(self, path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"  # the path first, as OSError's own str would not

    def __reduce__(self):
        return type(self), (self.path, self.reason)  # picklable (worker processes, multiprocessing)


class UnreadableFileError(InputError, OSError):
    """A file the system refused to read (no permission, an I/O error): an InputError and the
    ``OSError`` of ``errno`` (``errno``, ``strerror`` and ``filename`` set as ``open`` sets them)."""

    def __init__(self, path, reason: str, errno: int | None = None, strerror: str | None = None) -> None:
        super().__init__(path, reason)
        self.errno, self.strerror, self.filename = errno, strerror or reason, self.path

    def __reduce__(self):
        return type(self), (self.path, self.reason, self.errno, self.strerror)


class MissingFileError(UnreadableFileError, FileNotFoundError):
    """A letter file that is not there (or a dangling link): an InputError and a
    ``FileNotFoundError``, so ``except FileNotFoundError`` and ``except OSError`` catch it too."""

    def __init__(self, path, reason: str = "no such file") -> None:
        import errno

        super().__init__(path, reason, errno.ENOENT, reason)

    def __reduce__(self):
        return type(self), (self.path, self.reason)


class ValuesNotStoredError(ValueError):
    """A processed Doc read back without the values of its extensions (a ``DocBin`` made without
    ``store_user_data=True``): its span groups and entities are there, but not what the Determination
    is assembled from."""

    def __init__(self) -> None:
        super().__init__(
            "this Doc was stored without its extension values (user_data), so its Determination cannot be "
            "assembled: store processed docs with DocBin(store_user_data=True) or Doc.to_bytes()"
        )


class SpentResultsWarning(UserWarning):
    """A second pass over ``parse_many``'s results, which are read once: it gives nothing (an
    empty table, an empty list), so it is said instead of left silent."""


@dataclass(frozen=True)
class WarningKind:
    """One kind of warning: its stable code, its text (a ``str.format`` template) and what it
    means for the Determination it is on."""

    code: str
    template: str
    meaning: str
    truncation: bool = False  # a sign that the letter is cut short


_TRUNCATED = ": the letter may be truncated"

# Every warning a Determination can carry, by code. Codes are stable: code that reacts to a
# warning matches its code (``warning_code``), never its wording, which may be improved.
WARNINGS: dict[str, WarningKind] = {
    kind.code: kind
    for kind in (
        WarningKind("W001", "empty text", "the text was empty or white space"),
        WarningKind(
            "W002",
            "no IMR decisions found: the text does not look like an IMR final determination letter",
            "no decision section, no decision and no truncation: probably not a letter",
        ),
        WarningKind(
            "W003",
            "no 'IMR ISSUES, DECISIONS AND RATIONALES' section found" + _TRUNCATED,
            "the letter's other sections were found but not its decisions",
            truncation=True,
        ),
        WarningKind(
            "W004",
            "the decisions section has no item with an outcome" + _TRUNCATED,
            "a decisions section without any item",
            truncation=True,
        ),
        WarningKind(
            "W005",
            "decision {decision}: no 'Decision rationale:' found" + _TRUNCATED,
            "a decision without its rationale",
            truncation=True,
        ),
        WarningKind(
            "W006",
            "decision {decision}: the rationale states no conclusion" + _TRUNCATED,
            "the last rationale stops before its conclusion",
            truncation=True,
        ),
        WarningKind(
            "W007",
            "decision {decision}: the rationale ends mid-sentence" + _TRUNCATED,
            "the last rationale ends without a full stop",
            truncation=True,
        ),
        WarningKind(
            "W008",
            "{layout} layout: no decision could be read from this letter",
            "a letter of a known layout other than 2016 in which no decision was read",
        ),
        WarningKind(
            "W009",
            "{layout} layout: the outcome of decision(s) {decisions} is not stated as upheld or overturned in a "
            "form imr_nlp reads (medically_necessary is read from the rationale where it says so)",
            "decisions of another layout whose outcome is not read",
        ),
        WarningKind(
            "W010",
            "{layout} layout: no rationale read for decision(s) {decisions}",
            "decisions of another layout without a rationale (not a sign of truncation)",
        ),
        WarningKind(
            "W011",
            "{count} unencodable character(s) (lone surrogates) read as U+FFFD",
            "the string held lone surrogates (undecodable bytes)",
        ),
        WarningKind(
            "W012",
            "text of {given:,} characters is over the budget of {budget:,}: only its first {read:,} characters "
            "were read",
            "the text is longer than the per-letter budget",
        ),
        WarningKind(
            "W013",
            "date {written!r} has a year outside {first}-{last}: left out (a typing error?)",
            "a date with an implausible year is not read",
        ),
        WarningKind(
            "W014",
            "the text holds more than one letter: only the first is read (the next starts at character "
            "{start}); give each letter as its own text",
            "a second letter in the same text",
        ),
        WarningKind(
            "W015",
            "the text is a file name ({name}): use imr_nlp.parse_file",
            "parse was given a file's name instead of its text",
        ),
        WarningKind(
            "W016",
            "text is not valid {encoding}: bad bytes read as U+FFFD",
            "a file with a byte-order mark but bad bytes",
        ),
        WarningKind(
            "W017", "text is not UTF-8: read as cp1252 (Windows Latin-1)", "a text file's encoding was guessed"
        ),
        WarningKind("W018", "text is not UTF-8: read as Latin-1", "a text file's encoding was guessed"),
        WarningKind("W019", "a PDF named {name}: read as a PDF", "a PDF under another suffix"),
        WarningKind(
            "W020",
            "PDF read up to page {read} of {pages}: its text is over the budget of {budget:,} characters",
            "a PDF's later pages were not read",
        ),
        WarningKind(
            "W021",
            "header field(s) not read: {fields} (the label is there, but no value of its kind: a date, a case "
            "number, a priority word)",
            "a header label without a readable value; a date the body gives that role may stand in (see "
            "injury_date_source, ur_date_source)",
        ),
        WarningKind(
            "W022",
            "decision {decision}: the rationale concludes {said!r} but the outcome is {outcome}: "
            "medically_necessary follows the outcome",
            "the rationale's conclusion and the outcome disagree (a letter's slip, or a conclusion misread)",
        ),
        WarningKind(
            "W023",
            "PDF page {page} of {pages} has no text layer (a scanned image?) and was not read: {why}",
            "a page without text was left out: OCR off (ocr='never'), not installed (the ocr extra), or over "
            "its page bound",
        ),
        WarningKind(
            "W024",
            "PDF page {page} of {pages}: OCR failed ({reason}); its text layer, if any, was read",
            "tesseract gave no text for a page (an error, or over its time)",
        ),
        WarningKind(
            "W025",
            "PDF page {page} was read by OCR with a mean word confidence of {confidence:.0f} (under "
            "{threshold}): its values may be misread",
            "an OCR'd page of low confidence (a poor scan): check its values against the letter",
        ),
    )
}

_CODE = re.compile(r"^(W\d{3}): ")


def warning(code: str, **fields) -> str:
    """The text of a warning: its code, then its template filled (``W005: decision 3: ...``)."""
    return f"{code}: " + WARNINGS[code].template.format(**fields)


def warning_code(message: str) -> str | None:
    """The code a warning starts with, or None for a text that is not one of ours."""
    found = _CODE.match(message)
    return found.group(1) if found else None


def is_truncation(message: str) -> bool:
    """Whether a warning says the letter may be cut short (by its code)."""
    code = warning_code(message)
    return code is not None and WARNINGS[code].truncation

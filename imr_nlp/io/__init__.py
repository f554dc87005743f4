"""Reading letters from files: plain text and PDF (pypdfium2, permissive licence).

Only regular files are read (a device, FIFO or socket would read forever or block), up to
``MAX_FILE_BYTES``; what a file is comes from its content ("%PDF" starts a PDF whatever its
name), and text is decoded by its byte-order mark (UTF-8/16/32), else as UTF-8, else as cp1252
with a note saying so.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from imr_nlp.errors import InputError

PDF_SUFFIXES = {".pdf"}
# Read as text: .txt and names with no suffix; any other file that is not a PDF is refused.
TEXT_SUFFIXES = {".txt", ""}

# The read budget of one file: a letter's PDF is about 100 KB, its text about 6 KB.
MAX_FILE_BYTES = 100_000_000

# Text extraction stops once a PDF has given this much text (the parser's per-letter budget,
# imr_nlp.components.normalize.MAX_TEXT_CHARS, which warns when it is exceeded).
MAX_PDF_CHARS = 1_000_000

# What the compressed streams of one PDF may inflate to: a letter's are well under 1 MB; a
# "Flate bomb" of 1.6 MB inflates to gigabytes inside pdfium. Checked (in bounded memory) before
# pdfium opens the file; streams that do not inflate (encrypted ones) are passed to pdfium as is.
MAX_PDF_INFLATED_BYTES = 256_000_000
_STREAM = re.compile(rb"stream\r?\n")
_PDF_START = re.compile(rb"\s*%PDF")
_INFLATE_STEP = 1 << 20

# Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass
class LetterText:
    """The text of a letter file and notes on how it was read (an encoding guessed ...)."""

    text: str
    notes: list[str] = field(default_factory=list)


def decode_text(data: bytes) -> LetterText:
    """Text of a letter file's bytes: by its byte-order mark, else UTF-8, else cp1252 (noted)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return LetterText(data[len(bom) :].decode(encoding))
            except UnicodeDecodeError:
                text = data[len(bom) :].decode(encoding, errors="replace")
                return LetterText(text, [f"text is not valid {encoding}: bad bytes read as U+FFFD"])
    try:
        return LetterText(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        return LetterText(data.decode("cp1252"), ["text is not UTF-8: read as cp1252 (Windows Latin-1)"])
    except UnicodeDecodeError:
        return LetterText(data.decode("latin-1"), ["text is not UTF-8: read as Latin-1"])


def read_text_file(path: Path) -> str:
    """The text of a plain-text letter file (see ``decode_text``)."""
    return decode_text(_read_bytes(Path(path))).text


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise _over_budget(path)
    return data


def _over_budget(path: Path) -> InputError:
    return InputError(path, f"larger than the read budget of {MAX_FILE_BYTES:,} bytes")


def read_pdf(path: Path) -> str:
    """Text of a PDF, pages joined with form feeds; line breaks and reading order kept.

    The public IMR PDFs are AES-encrypted with an empty user password: pdfium opens them as is.
    """
    return _pdf_text(_read_bytes(Path(path)), Path(path))


def read_pdf_bytes(data: bytes, name: str = "<bytes>") -> str:
    """Text of a PDF given as bytes (a Spark ``binaryFile`` row, an upload); ``name`` is used
    in the InputError when it cannot be read."""
    return _pdf_text(bytes(data), Path(name))


def inflated_size(data: bytes, budget: int) -> int:
    """The bytes the Flate streams of a PDF inflate to, counted in steps of 1 MB and stopped
    once past ``budget`` (so a bomb costs neither the memory nor the time of inflating it)."""
    total = 0
    for m in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        pending = data[m.end() : m.end() + _INFLATE_STEP]
        offset = m.end() + len(pending)
        try:
            while pending and total <= budget:
                total += len(inflater.decompress(pending, _INFLATE_STEP))
                pending = inflater.unconsumed_tail
                if not pending and not inflater.eof and offset < len(data):
                    pending = data[offset : offset + _INFLATE_STEP]
                    offset += len(pending)
                if inflater.eof:
                    break
        except zlib.error:
            continue  # not a Flate stream, or an encrypted one: pdfium's business
        if total > budget:
            break
    return total


def _pdf_text(source: bytes, path: Path) -> str:
    import pypdfium2 as pdfium

    if inflated_size(source, MAX_PDF_INFLATED_BYTES) > MAX_PDF_INFLATED_BYTES:
        raise InputError(
            path, f"its compressed streams inflate to over {MAX_PDF_INFLATED_BYTES:,} bytes (a decompression bomb)"
        )

    try:
        pdf = pdfium.PdfDocument(source)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise InputError(path, "encrypted PDF that needs a password") from exc
        raise InputError(path, f"not a readable PDF ({reason})") from exc
    try:
        pages, chars = [], 0
        for page in pdf:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
            chars += len(pages[-1])
            if chars > MAX_PDF_CHARS:
                break  # past the per-letter budget: the parser reads no further (and warns)
    except pdfium.PdfiumError as exc:
        raise InputError(path, f"corrupt PDF ({exc})") from exc
    finally:
        pdf.close()
    text = "\f".join(pages)
    if not text.strip():
        raise InputError(path, "no text layer (an image-only PDF needs OCR first)")
    return text.replace("\r\n", "\n")


def read_letter(path) -> str:
    """The text of a letter file (.txt or .pdf), or InputError naming the file and the reason
    (missing, a folder, not a regular file, over the read budget, unreadable, not a PDF,
    corrupt, encrypted, no text layer)."""
    return read_letter_file(path).text


def read_letter_file(path) -> LetterText:
    """``read_letter`` with the notes on how the file was read (for the Determination's
    warnings): a PDF is recognised by its content, whatever its name; any other file is read as
    text only when named .txt or with no suffix (a .docx or a .zip is refused, not misread)."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"a letter path must be a str or pathlib.Path, not {type(path).__name__}")
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        reason = "dangling symbolic link" if path.is_symlink() else "no such file"
        raise InputError(path, reason) from None
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "not a regular file (a device, FIFO or socket is not read)")
    if info.st_size > MAX_FILE_BYTES:  # refused before reading a byte
        raise _over_budget(path)
    data = _read_bytes(path)
    if _PDF_START.match(data) or (path.suffix.lower() in PDF_SUFFIXES and data):
        notes = [] if path.suffix.lower() in PDF_SUFFIXES else [f"a PDF named {path.name}: read as a PDF"]
        return LetterText(_pdf_text(data, path), notes)
    if path.suffix.lower() in PDF_SUFFIXES:
        raise InputError(path, "not a readable PDF (the file is empty)")
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise InputError(path, unsupported_type(path))
    return decode_text(data)


def unsupported_type(path: Path) -> str:
    """Why a file is not read as a letter: its type (a .docx, a .zip is not a letter's text)."""
    return f"unsupported file type {path.suffix.lower()}: letters are .pdf or .txt files (or text with no suffix)"


def letter_identity(path: str | os.PathLike) -> str:
    """The one name of a letter's file wherever it was read: its resolved absolute path, so the
    ``letter`` column of the CLI, the API and Spark joins. A ``file:`` URI (Spark's binaryFile
    paths) is turned into that path; another URI (``hdfs://``, ``s3a://``) is kept as it is."""
    text = os.fspath(path)
    if text.startswith("file:"):
        from urllib.parse import unquote, urlparse

        text = unquote(urlparse(text).path)
    elif re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", text):
        return text
    try:
        return str(Path(text).resolve())
    except (OSError, RuntimeError):  # a link loop: the absolute path, unresolved
        return os.path.abspath(text)


def temporary_beside(target: str, folder: str | None = None) -> str:
    """A new empty temporary file in ``folder`` (default: ``target``'s own folder, so that a
    rename onto ``target`` is atomic), named after ``target`` with its name cut to 150 bytes
    (any valid ``target`` name gives a valid temporary name)."""
    import tempfile

    where, name = os.path.split(target)
    prefix = f".{os.fsdecode(os.fsencode(name)[:150])}."
    handle, temp = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=folder or where)
    os.close(handle)
    return temp


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it is there (a temporary file given up)."""
    try:
        os.unlink(path)
    except OSError:
        pass

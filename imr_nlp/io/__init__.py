"""Reading letters from files: plain text and PDF (pypdfium2, permissive licence).

Only regular files are read (a device, FIFO or socket would read forever or block), up to
``MAX_FILE_BYTES``; what a file is comes from its content ("%PDF" starts a PDF whatever its
name), and text is decoded by its byte-order mark (UTF-8/16/32), else as UTF-8, else as cp1252
with a note saying so.
"""

from __future__ import annotations

import codecs
import functools
import json
import os
import re
import select
import signal
import stat
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from imr_nlp.errors import InputError, MissingFileError, UnreadableFileError, warning
from imr_nlp.io import pdf_reader

PDF_SUFFIXES = {".pdf"}
# Read as text: .txt and names with no suffix; any other file that is not a PDF is refused.
TEXT_SUFFIXES = {".txt", ""}

# The read budget of one file: a letter's PDF is about 100 KB, its text about 6 KB.
MAX_FILE_BYTES = 100_000_000

# Text extraction stops once a PDF has given this much text (the parser's per-letter budget,
# imr_nlp.components.normalize.MAX_TEXT_CHARS, which warns when it is exceeded).
MAX_PDF_CHARS = 1_000_000

# What the compressed streams of one PDF may inflate to (checked, in bounded memory and linear
# time, before pdfium opens the file: imr_nlp.io.pdf_reader.inflation_count).
MAX_PDF_INFLATED_BYTES = pdf_reader.MAX_INFLATED_BYTES
# pdfium reads each PDF in a child process whose address space is bounded to this (a letter
# needs under 100 MB): a PDF the inflation check cannot see into (encrypted streams, other
# filters) that makes pdfium allocate more ends that process, not the caller's run.
MAX_PDF_READER_BYTES = 1 << 30
# and within this many seconds (a letter takes a few milliseconds).
MAX_PDF_SECONDS = 120
_PDF_START = re.compile(rb"\s*%PDF")

# OCR of PDF pages (the ``ocr`` extra: pytesseract and the tesseract program): "auto" reads a
# page with no text layer by OCR (a page with text is never rendered), "always" every page,
# "never" none (a page without text is then named in a W023 warning).
OCR_MODES = {"never": pdf_reader.OCR_NEVER, "auto": pdf_reader.OCR_AUTO, "always": pdf_reader.OCR_ALWAYS}
# An OCR'd page whose words' mean confidence (tesseract's, 0-100) is under this gets a W025
# warning. Measured on the letters: clean renders and ones turned 0.7 degree with noise read at
# 93-97; 100 dpi with heavy noise at 89 (a split word); 120 dpi blurred at 85 (misread words:
# "guidetine"); 150 dpi blurred with heavier noise at 62 (unreadable).
OCR_MIN_CONFIDENCE = 85
OCR_INSTALL = "pip install 'imr-nlp[ocr]' and the tesseract program (Debian: apt-get install tesseract-ocr)"

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
    ocr_pages: list[int] = field(default_factory=list)  # the pages of a PDF read by OCR (1-based)


class OcrUnavailableError(RuntimeError):
    """``ocr="always"`` asked where OCR cannot run (pytesseract or tesseract missing)."""


def ocr_unavailable() -> str | None:
    """Why OCR cannot run here (pytesseract not installed, no tesseract program), or None."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pytesseract") is None:
        return "pytesseract is not installed"
    if shutil.which("tesseract") is None:
        return "the tesseract program is not installed"
    return None


def check_ocr_mode(ocr: str) -> None:
    """ValueError for an ``ocr`` mode not in OCR_MODES."""
    if not isinstance(ocr, str) or ocr not in OCR_MODES:
        raise ValueError(f"ocr must be one of {', '.join(map(repr, OCR_MODES))}, not {ocr!r}")


def check_ocr(ocr: str) -> str | None:
    """The ``ocr`` mode checked: ValueError for one not in OCR_MODES, OcrUnavailableError for
    "always" where OCR cannot run; else why OCR cannot run here (None when it can)."""
    check_ocr_mode(ocr)
    if ocr == "never":
        return None
    missing = ocr_unavailable()
    if missing and ocr == "always":
        raise OcrUnavailableError(f'ocr="always" but OCR is not available: {missing}: {OCR_INSTALL}')
    return missing


def decode_text(data: bytes) -> LetterText:
    """Text of a letter file's bytes: by its byte-order mark, else UTF-8, else cp1252 (noted)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return LetterText(data[len(bom) :].decode(encoding))
            except UnicodeDecodeError:
                text = data[len(bom) :].decode(encoding, errors="replace")
                return LetterText(text, [warning("W016", encoding=encoding)])
    try:
        return LetterText(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        return LetterText(data.decode("cp1252"), [warning("W017")])
    except UnicodeDecodeError:
        return LetterText(data.decode("latin-1"), [warning("W018")])


def read_text_file(path: Path) -> str:
    """The text of a plain-text letter file (see ``decode_text``)."""
    return decode_text(_read_bytes(Path(path))).text


# Files a folder scan found, by name: the device and inode each had when the scan saw it (see
# ``expect_files``).
_EXPECTED_FILES: dict[str, tuple[int, int]] = {}


def expect_files(identities: dict[str, tuple[int, int]]) -> None:
    """Pin the files a folder scan found to what it saw (name -> device and inode, as
    ``file_key`` gives): a file replaced, or swapped for a link out of the folder, between the
    scan and its reading is then refused instead of read. Replaces the previous pins; forked
    workers inherit them."""
    _EXPECTED_FILES.clear()
    _EXPECTED_FILES.update(identities)


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            expected = _EXPECTED_FILES.get(str(path))
            if expected is not None:
                opened = os.fstat(handle.fileno())
                if (opened.st_dev, opened.st_ino) != expected:
                    raise InputError(path, "is no longer the file the scan found (replaced or made a link since)")
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _os_error(path, exc) from exc
    if len(data) > MAX_FILE_BYTES:
        raise _over_budget(path)
    return data


def _os_error(path: Path, exc: OSError) -> UnreadableFileError:
    """The InputError of a file the system would not open or read, an OSError too: a
    MissingFileError (a FileNotFoundError) for one that is not there."""
    if isinstance(exc, FileNotFoundError):
        return MissingFileError(path, missing_reason(path))
    return UnreadableFileError(path, f"cannot read file: {exc.strerror or exc}", exc.errno, exc.strerror)


def missing_reason(path: Path) -> str:
    """Why a file that is not there cannot be read: a dangling symbolic link, or no such file."""
    return "dangling symbolic link" if path.is_symlink() else "no such file"


def _over_budget(path: Path) -> InputError:
    return InputError(path, f"larger than the read budget of {MAX_FILE_BYTES:,} bytes")


def read_pdf(path: Path, ocr: str = "never") -> str:
    """Text of a PDF, pages joined with form feeds; line breaks and reading order kept; pages
    without a text layer OCR'd by ``ocr`` (see ``read_letter_file``).

    The public IMR PDFs are AES-encrypted with an empty user password: pdfium opens them as is.
    """
    return _pdf_text(_read_bytes(Path(path)), Path(path), ocr).text


def read_pdf_bytes(data: bytes, name: str = "<bytes>", ocr: str = "never") -> str:
    """Text of a PDF given as bytes (a Spark ``binaryFile`` row, an upload); ``name`` is used
    in the InputError when it cannot be read (as when over the read budget). Anything but
    bytes-like data is a TypeError (``bytes(n)`` of an int would make n zero bytes)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"read_pdf_bytes expects bytes, not {type(data).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise _over_budget(Path(name))
    return _pdf_text(bytes(data), Path(name), ocr).text


def inflated_size(data: bytes, budget: int) -> int:
    """The bytes the Flate streams of a PDF inflate to (nested filters counted level by level),
    counted in steps of 1 MB and stopped once past ``budget``."""
    return pdf_reader.inflation_count(data, budget).inflated


def _pdf_text(source: bytes, path: Path, ocr: str = "never") -> LetterText:
    """The text of a PDF's bytes, read within the bounds above, with notes on pages left unread
    (the text passed the per-letter budget; no text layer and no OCR), OCR that failed and OCR
    of low confidence."""
    missing = check_ocr(ocr)
    mode = pdf_reader.OCR_NEVER if missing else OCR_MODES[ocr]
    if os.name == "nt":  # no poll() on pipes: read in this process (the inflation check still runs)
        reply = pdf_reader.answer(source, MAX_PDF_CHARS, MAX_PDF_INFLATED_BYTES, mode)
    else:
        reply = _READER.read(source, MAX_PDF_CHARS, MAX_PDF_INFLATED_BYTES, mode)
    why_unread = (
        f"OCR is not available ({missing}): {OCR_INSTALL}"
        if missing
        else "OCR is off (ocr='never')"
        if mode == pdf_reader.OCR_NEVER
        else f"over the OCR bound of {pdf_reader.MAX_OCR_PAGES} pages"
    )
    if "error" in reply:
        reason = reply["error"]
        if reason.endswith("needs OCR first)"):
            reason += f": {why_unread}"
        raise InputError(path, reason)
    pages = reply["pages"]
    notes = [warning("W023", page=page, pages=pages, why=why_unread) for page in reply.get("unread_pages", ())]
    for page, reason in reply.get("ocr_failed", {}).items():
        notes.append(warning("W024", page=page, pages=pages, reason=reason))
    for page, confidence in reply.get("ocr_confidence", {}).items():
        if confidence is not None and confidence < OCR_MIN_CONFIDENCE:
            notes.append(warning("W025", page=page, confidence=confidence, threshold=OCR_MIN_CONFIDENCE))
    if reply["pages_read"] < pages:
        notes.append(warning("W020", read=reply["pages_read"], pages=pages, budget=MAX_PDF_CHARS))
    return LetterText(reply["text"], notes, list(reply.get("ocr_pages", ())))


class BoundedPdfReader:
    """pdfium in a child process (``pdf_reader.py``) with its address space bounded to
    ``memory_bytes`` and each file to ``seconds`` (of wall time, waited for here, and of
    processor time, bounded in the child: a child whose parent was killed ends by itself): a PDF
    that exhausts either ends the child (restarted for the next file) and is an error for that
    file only. One per process, shared by threads under a lock; a forked process starts its own."""

    def __init__(self, memory_bytes: int = MAX_PDF_READER_BYTES, seconds: float = MAX_PDF_SECONDS):
        self.memory_bytes, self.seconds = memory_bytes, seconds
        self._child: subprocess.Popen | None = None
        self._owner = 0
        self._lock = threading.Lock()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=functools.partial(_renew_lock, weakref.ref(self)))

    def read(self, data: bytes, max_chars: int, budget: int, ocr: int = pdf_reader.OCR_NEVER) -> dict:
        """``pdf_reader.answer`` for one PDF's bytes, given by the child process; each page it
        OCRs (it says so before) gets the time bound afresh."""
        with self._lock:
            child = self._started()
            deadline = time.monotonic() + self.seconds
            try:
                child.stdin.write(b"".join(n.to_bytes(8, "big") for n in (len(data), max_chars, budget, ocr)))
                child.stdin.write(data)
                child.stdin.flush()
                while True:
                    header = self._receive(child, 8, deadline)
                    reply = json.loads(self._receive(child, int.from_bytes(header, "big"), deadline))
                    if set(reply) != {"progress"}:
                        break
                    deadline = time.monotonic() + self.seconds
            except (BrokenPipeError, EOFError, TimeoutError) as exc:
                return {"error": self._stopped(child, exc)}
            except BaseException:
                # interrupted (Ctrl-C, a caller's alarm) with a request or reply half through:
                # the child is ended, or the next file would read this file's reply
                self._stopped(child, InterruptedError())
                raise
            return reply

    def close(self) -> None:
        """End the child (it also ends by itself when this process does)."""
        child, self._child = self._child, None
        if child is not None and self._owner == os.getpid():
            child.kill()
            child.wait()
            for pipe in (child.stdin, child.stdout):
                pipe.close()

    def _started(self) -> subprocess.Popen:
        if self._child is None or self._owner != os.getpid() or self._child.poll() is not None:
            if self._owner == os.getpid():
                self.close()
            self._child = subprocess.Popen(
                [sys.executable, "-I", pdf_reader.__file__, str(self.memory_bytes), str(max(1, int(self.seconds)))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                close_fds=True,
            )
            self._owner = os.getpid()
        return self._child

    def _receive(self, child: subprocess.Popen, size: int, deadline: float) -> bytes:
        """``size`` bytes of the child's reply, by ``deadline`` (time.monotonic) or TimeoutError;
        poll(), not select(), so that a process with many open files is no problem."""
        chunks, got = [], 0
        fd = child.stdout.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while got < size:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise TimeoutError
            chunk = os.read(fd, min(size - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _stopped(self, child: subprocess.Popen, exc: Exception) -> str:
        """Why the child gave no answer, after ending it (the next file starts a new one)."""
        timed_out = isinstance(exc, TimeoutError)
        child.kill()
        code = child.wait()
        self.close()
        if timed_out or code == -signal.SIGXCPU:
            return f"took over {self.seconds:g} s to read (a crafted or corrupt PDF)"
        how = f"signal {_signal_name(-code)}" if code < 0 else f"exit status {code}"
        return (
            f"the PDF reader stopped on this file ({how}): it needs more than the bound of "
            f"{self.memory_bytes:,} bytes of memory (a decompression bomb) or is corrupt"
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _renew_lock(reader: weakref.ref) -> None:
    """A forked process gets a reader lock of its own: one inherited while another thread of the
    parent was reading a PDF would never be released there (its workers would wait forever)."""
    if (alive := reader()) is not None:
        alive._lock = threading.Lock()


_READER = BoundedPdfReader()


def read_letter(path, ocr: str = "auto") -> str:
    """The text of a letter file (.txt or .pdf), or InputError naming the file and the reason
    (missing, a folder, not a regular file, over the read budget, unreadable, not a PDF,
    corrupt, encrypted, no text layer). A missing file's error is a ``MissingFileError``, also a
    ``FileNotFoundError``; one the system cannot read an ``UnreadableFileError``, also an
    ``OSError``."""
    return read_letter_file(path, ocr).text


def read_letter_file(path, ocr: str = "auto") -> LetterText:
    """``read_letter`` with the notes on how the file was read (for the Determination's
    warnings): a PDF is recognised by its content, whatever its name; any other file is read as
    text only when named .txt or with no suffix (a .docx or a .zip is refused, not misread).
    A PDF's pages without a text layer are OCR'd with ``ocr="auto"`` when OCR is installed (else
    each is named in a W023 warning); ``"always"`` OCRs every page, ``"never"`` none."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"a letter path must be a str or pathlib.Path, not {type(path).__name__}")
    check_ocr_mode(ocr)
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise _os_error(path, exc) from None
    except OSError as exc:
        raise _os_error(path, exc) from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError(path, "is a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, "not a regular file (a device, FIFO or socket is not read)")
    if info.st_size > MAX_FILE_BYTES:  # refused before reading a byte
        raise _over_budget(path)
    data = _read_bytes(path)
    if _PDF_START.match(data) or (path.suffix.lower() in PDF_SUFFIXES and data):
        notes = [] if path.suffix.lower() in PDF_SUFFIXES else [warning("W019", name=path.name)]
        letter = _pdf_text(data, path, ocr)
        return LetterText(letter.text, notes + letter.notes, letter.ocr_pages)
    if path.suffix.lower() in PDF_SUFFIXES:
        raise InputError(path, "not a readable PDF (the file is empty)")
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise InputError(path, unsupported_type(path))
    return decode_text(data)


def looks_like_pdf(data: bytes) -> bool:
    """Whether a file's bytes are a PDF's (they start with "%PDF", white space allowed before)."""
    return bool(_PDF_START.match(data))


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


def file_key(path: str | os.PathLike) -> tuple[int, int] | str:
    """What makes two names one file: its device and inode (hard links, symbolic links and
    different spellings alike), or its resolved path when it cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return os.path.realpath(path)
    return (info.st_dev, info.st_ino)


def temporary_beside(target: str, folder: str | None = None) -> str:
    """A new empty temporary file in ``folder`` (default: ``target``'s own folder, so that a
    rename onto ``target`` is atomic), named after ``target`` with its name cut to 150 bytes
    (any valid ``target`` name gives a valid temporary name)."""
    import tempfile

    where, name = os.path.split(target)
    prefix = f".{os.fsdecode(os.fsencode(name)[:150])}."
    handle, temp = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=folder or where)
    try:
        if folder is None:  # renamed onto target at the end: give it the mode target should have
            os.fchmod(handle, _output_mode(target))
    finally:
        os.close(handle)
    return temp


def temporary_for(target: str) -> str:
    """The temporary file an output to ``target`` is written to before ``commit_output``: beside
    it (renamed onto it), or, for a FIFO or device, in the system's temporary folder (copied
    into it: a device is written through, never replaced)."""
    import tempfile

    return temporary_beside(target, tempfile.gettempdir() if is_special_file(target) else None)


def commit_output(temp: str, target: str) -> None:
    """Put a complete temporary output in place: renamed onto a regular ``target``, copied into
    a FIFO or device (then removed)."""
    if not is_special_file(target):
        os.replace(temp, target)
        return
    import shutil

    with open(temp, "rb") as source, open(target, "wb") as sink:
        shutil.copyfileobj(source, sink)
    remove_quietly(temp)


def _output_mode(target: str) -> int:
    """The permissions an output renamed onto ``target`` should have: those of the file it
    replaces, else those of a new file under the process's umask (mkstemp's own 0600 would
    make a shared report unreadable to the group)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it where Linux says it (/proc), else by
    setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_special_file(path: str) -> bool:
    """Whether ``path`` exists and is no regular file (a FIFO, a character or block device)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def write_whole(out: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``out`` so that it appears only when complete (``temporary_for``
    then ``commit_output``: removed on failure, the old file left as it was); a link's target is
    written, a FIFO or device written through. Characters that cannot be encoded (a file name's
    undecodable bytes) are written escaped."""
    target = os.path.realpath(out)
    temp = temporary_for(target)
    try:
        with open(temp, "wb") as sink:
            sink.write(text.encode("utf-8", errors="backslashreplace"))
        commit_output(temp, target)
    except BaseException:
        remove_quietly(temp)
        raise


def remove_quietly(path: str) -> None:
    """Remove ``path`` if it is there (a temporary file given up)."""
    try:
        os.unlink(path)
    except OSError:
        pass

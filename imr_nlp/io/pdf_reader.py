"""A PDF's text read by pdfium within bounds: a decompression-bomb check of linear cost, a text
budget counted in the characters the parser will see, OCR of the pages that have no text layer
(optional: pytesseract and the tesseract program), and (run as a script) a reader process whose
address space the operating system bounds.

Standalone on purpose (the standard library and pypdfium2 only; pytesseract and Pillow when a
page is OCR'd): ``imr_nlp.io`` runs this file as ``python -I pdf_reader.py MEMORY_BYTES SECONDS``
so that a PDF that makes pdfium allocate gigabytes, crash or loop costs a child process, never
the caller's run; tesseract runs under the same bounds (it inherits them). Requests and replies
are length-prefixed: 8 bytes big-endian, then the request's four numbers (8 bytes each: the
PDF's size, the text budget, the inflation budget, the OCR mode) and the PDF's bytes, or a JSON
object (reply). Before each page it OCRs, the reader sends ``{"progress": page}``: each page
gets the parent's time bound afresh.
"""

from __future__ import annotations

import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import chain

# What the compressed streams of one PDF may inflate to: a letter's are well under 1 MB; a
# "Flate bomb" of 1.6 MB inflates to gigabytes inside pdfium.
MAX_INFLATED_BYTES = 256_000_000

# A stream's data starts after its keyword and any white space (NUL, tab, LF, FF, CR, space):
# "stream\r", "stream \n" and "stream" straight before the data are all read by pdfium; and
# pdfium also skips whatever else is on the keyword's line ("stream x\n"), so the start after
# the line end is tried too. "endstream" matches and costs a two-byte header check.
_STREAM_KEYWORD = re.compile(rb"stream")
_WHITE_SPACE = re.compile(rb"[\x00\t\n\x0c\r ]*")
_STEP = 1 << 20
_FIRST_PIECE, _MAX_PIECE = 16, 1 << 16
# Filters applied one over another (/Filter [/FlateDecode /FlateDecode ...]) are followed to this
# depth; each level's output is counted, so depth cannot hide size.
_MAX_FILTER_DEPTH = 16

# OCR modes of a request: never (pages without a text layer but with an image are listed, not
# read), auto (only those pages are OCR'd: a page with text is never rendered) and always.
OCR_NEVER, OCR_AUTO, OCR_ALWAYS = 0, 1, 2
# The resolution pages are rendered at for tesseract: 300 dpi is what it is trained for (200
# reads these letters as well, at about 0.8 times the time; docs/sources.md).
OCR_DPI = 300
# A page is rendered at OCR_DPI unless that makes more pixels than this (a page of crafted size):
# then at the resolution that makes this many. A US Letter page at 300 dpi is 8.4 million.
MAX_OCR_PIXELS = 40_000_000
# The pages one PDF may have OCR'd (about 1.7 s each): a letter has a few; the rest are listed
# as not read.
MAX_OCR_PAGES = 60
# tesseract's time on one page (pytesseract ends it after this): a page takes about 2 s.
OCR_PAGE_SECONDS = 60
# Ruling lines (a table's borders: the letters' header is one) are whitened before OCR: tesseract
# drops the text of a cell whose border touches it ("Case Number:", "Decision Date:"). A rule is
# a run of dark pixels at least this long, across or down; the longest stroke of a letter's text
# is far shorter (an em dash is about 0.15 inch), and a rule scanned 1 degree askew still runs
# over 0.5 inch along a row.
RULE_INCHES_ACROSS, RULE_INCHES_DOWN = 0.5, 1 / 3
_DARK = 160  # grey levels under this are ink (shading of a table's cells is lighter)


@dataclass
class InflationCount:
    """What checking a PDF's Flate streams cost and found: bytes inflated (every level of nested
    filters counted), bytes of the file read by the inflaters, stream starts tried, and the most
    that calls ending in a zlib error may have handled unseen."""

    inflated: int = 0
    consumed: int = 0
    attempts: int = 0
    unseen: int = 0

    @property
    def work(self) -> int:
        """The check's cost in bytes handled (an upper bound): what a test bounds instead of timing it."""
        return self.inflated + self.consumed + self.attempts + self.unseen


def _looks_like_zlib(head: bytes | memoryview) -> bool:
    """A zlib header (RFC 1950): deflate method and a check value divisible by 31."""
    return len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


def _inflate(chunks: Iterable, count: InflationCount, *, from_file: bool, limit: int) -> Iterator[bytes]:
    """Inflate a zlib stream given in chunks, yielding its output in steps of at most 1 MB.

    Bytes read from the file count as consumed; output counts as inflated. Where a nested level
    ends (its data ends, or is not zlib after all), the level under it is drained so that its
    output is still counted (pdfium inflates it whatever the level above makes of it); the file
    level just stops (the bytes after a stream belong to later streams, checked on their own)."""
    yield from _inflate_until_end(chunks, count, from_file=from_file, limit=limit)
    if not from_file:
        for _ in chunks:
            if count.work > limit:
                return


def _inflate_until_end(chunks: Iterable, count: InflationCount, *, from_file: bool, limit: int) -> Iterator[bytes]:
    """One level's inflation, fed in pieces that grow with the work the stream has shown.

    zlib says nothing of a call that fails: what it read and wrote before the error is unseen.
    Each call's piece and output allowance are therefore kept within a few times the stream's
    work so far (16 bytes and 128 bytes at its start), and a failing call is charged both in
    full; so the counted work bounds the real work, whatever the data."""
    inflater = zlib.decompressobj()
    done = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            piece = min(max(_FIRST_PIECE, done), _MAX_PIECE)
            allowance = min(8 * piece, _STEP)
            data = view[:piece]
            try:
                out = inflater.decompress(data, allowance)
            except zlib.error:
                count.unseen += len(data) + allowance
                return
            used = len(data) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
            view = view[used:]
            if from_file:
                count.consumed += used
            count.inflated += len(out)
            done += used + len(out)
            if out:
                yield out
            if inflater.eof or count.work > limit or not (used or out):
                return


def _file_chunks(view: memoryview, start: int) -> Iterator[memoryview]:
    """The file from ``start`` in 1 MB views (no copies: a view costs nothing)."""
    for offset in range(start, len(view), _STEP):
        yield view[offset : offset + _STEP]


def inflation_count(data: bytes, budget: int = MAX_INFLATED_BYTES) -> InflationCount:
    """Inflate every Flate stream of a PDF, nested filters level by level, counting as it goes
    and stopping once the work passes ``budget`` plus the file's size.

    Linear: each stream start costs a two-byte check unless a zlib header follows; inflaters
    read views of the file, never copies, in pieces that grow with the stream's proven work; and
    all they consume or produce (or may have, in a call that fails) is counted against one
    budget, so overlapping or crafted streams cannot make the check itself costly. Streams that
    do not inflate (encrypted ones) are left to the reader process's memory bound."""
    count = InflationCount()
    limit = budget + len(data)
    view = memoryview(data)
    line_ends = _LineEnds(data)
    for match in _STREAM_KEYWORD.finditer(data):
        count.attempts += 1
        after_space = _WHITE_SPACE.match(data, match.end()).end()
        for start in dict.fromkeys((after_space, line_ends.after(match.end()))):
            if _looks_like_zlib(view[start : start + 2]):
                _check_stream(view, start, count, limit)
        if count.inflated > budget or count.work > limit:
            break
    return count


def _check_stream(view: memoryview, start: int, count: InflationCount, limit: int) -> None:
    """Inflate the stream starting at ``start`` and every nested level under it, counting."""
    level = _inflate(_file_chunks(view, start), count, from_file=True, limit=limit)
    for _ in range(_MAX_FILTER_DEPTH):
        first = next(level, None)
        if first is None or not _looks_like_zlib(first[:2]):
            break
        level = _inflate(chain([first], level), count, from_file=False, limit=limit)
    for _ in level:
        pass


class _LineEnds:
    """Where the line that contains a position ends (after its CR, LF or CR LF), for positions
    asked in increasing order: each search starts where the last one left off, so finding the
    line ends of every keyword of a file costs one pass over it."""

    def __init__(self, data: bytes):
        self.data = data
        self.found = {b"\n": -1, b"\r": -1}

    def after(self, position: int) -> int:
        for mark, at in self.found.items():
            if at != len(self.data) and at < position:
                found = self.data.find(mark, position)
                self.found[mark] = len(self.data) if found < 0 else found
        end = min(self.found.values())
        if end >= len(self.data):
            return len(self.data)
        return end + (2 if self.data[end : end + 2] == b"\r\n" else 1)


def is_bomb(count: InflationCount, data_size: int, budget: int = MAX_INFLATED_BYTES) -> bool:
    """Whether a checked PDF inflates past the budget, or its streams cost more to check than the
    budget allows (streams crafted to overlap)."""
    return count.inflated > budget or count.work > budget + data_size


class PdfReadError(Exception):
    """Why a PDF gave no text; ``imr_nlp.io`` turns it into an InputError naming the file."""


@dataclass
class PdfText:
    """The text of a PDF's pages joined by form feeds, the pages read of those it has, and how:
    the pages OCR'd (1-based) with their mean word confidence (0-100; None for a page where
    tesseract found no word), the pages with no text layer left unread (OCR off, or over
    MAX_OCR_PAGES) and the pages whose OCR failed, with the reason."""

    text: str
    pages_read: int
    pages: int
    ocr_pages: list[int] = field(default_factory=list)
    ocr_confidence: dict[int, float | None] = field(default_factory=dict)
    unread_pages: list[int] = field(default_factory=list)
    ocr_failed: dict[int, str] = field(default_factory=dict)


class OcrFailed(Exception):
    """Why tesseract gave no text for a page (not installed, an error, over its time)."""


def page_ocr(page, dpi: int = OCR_DPI, seconds: int = OCR_PAGE_SECONDS) -> tuple[str, float | None]:
    """The text of a pdfium page by OCR and its mean word confidence (None without words): the
    page rendered in grey at ``dpi`` (fewer dots when that passes MAX_OCR_PIXELS), read by
    tesseract once for both its text (its own lines and paragraphs) and its words' confidences."""
    try:
        import pytesseract
    except ImportError as exc:
        raise OcrFailed(f"pytesseract is not installed ({exc})") from exc
    width, height = page.get_size()  # in points, 72 a inch
    scale = min(dpi / 72, (MAX_OCR_PIXELS / max(1.0, width * height)) ** 0.5)
    image = without_rules(page.render(scale=scale, grayscale=True).to_pil(), 72 * scale)
    try:
        text, table = pytesseract.run_and_get_multiple_output(image, extensions=["txt", "tsv"], timeout=seconds)
    except RuntimeError as exc:  # pytesseract's timeout; TesseractError and TesseractNotFoundError too
        raise OcrFailed(str(exc).strip() or type(exc).__name__) from exc
    finally:
        image.close()
    return text.replace("\r\n", "\n").replace("\f", "").rstrip() + "\n", word_confidence(table)


def without_rules(image, dots_per_inch: float):
    """A grey page image with its ruling lines whitened: runs of ink at least RULE_INCHES_ACROSS
    long along a row, or RULE_INCHES_DOWN down a column, a run allowed to step a pixel or two
    aside (a rule scanned askew is a staircase)."""
    import numpy as np
    from PIL import Image

    grey = np.array(image.convert("L"))
    ink = grey < _DARK
    reach = max(1, round(dots_per_inch / 150))
    rules = _rules(ink, round(RULE_INCHES_ACROSS * dots_per_inch), reach)
    rules |= _rules(np.ascontiguousarray(ink.T), round(RULE_INCHES_DOWN * dots_per_inch), reach).T
    grey[rules] = 255
    return Image.fromarray(grey)


def _rules(ink, length: int, reach: int):
    """The ink of runs of at least ``length`` along rows, each run's cells allowed to lie up to
    ``reach`` rows apart: runs found in the ink thickened ``reach`` rows up and down, then the
    ink within ``reach`` rows of them."""
    near = _thickened(ink, reach)
    return _thickened(_in_runs(near, length), reach) & ink


def _thickened(mask, reach: int):
    """``mask`` with each True cell spread ``reach`` rows up and down."""
    out = mask.copy()
    for shift in range(1, reach + 1):
        out[shift:] |= mask[:-shift]
        out[:-shift] |= mask[shift:]
    return out


def _in_runs(mask, length: int):
    """The cells of a boolean matrix that lie in a run of at least ``length`` True cells along a
    row: windows of ``length`` that are all True, found by cumulative sums, then every cell some
    such window covers (linear in the matrix's size)."""
    import numpy as np

    rows, cols = mask.shape
    if length < 1 or cols < length:
        return np.zeros_like(mask)
    kind = np.int16 if cols < 32_000 else np.int32
    sums = np.zeros((rows, cols + 1), kind)
    np.cumsum(mask, axis=1, dtype=kind, out=sums[:, 1:])
    full = (sums[:, length:] - sums[:, :-length]) == length  # the window starting at each column
    windows = full.shape[1]
    starts = np.empty((rows, cols + 1), kind)  # windows started before each column
    starts[:, 0] = 0
    np.cumsum(full, axis=1, dtype=kind, out=starts[:, 1 : windows + 1])
    starts[:, windows + 1 :] = starts[:, windows : windows + 1]
    covered = np.empty(mask.shape, bool)  # a window started in (column - length, column]
    covered[:, : length - 1] = starts[:, 1:length] > 0
    covered[:, length - 1 :] = (starts[:, length:] - starts[:, : cols - length + 1]) > 0
    return covered


def _has_image(page) -> bool:
    """Whether a page draws an image (a scanned page's text is one), form objects included."""
    import pypdfium2.raw as pdfium_c

    return any(obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects(max_depth=8))


def word_confidence(table: str) -> float | None:
    """The mean confidence (0-100) of the words of tesseract's TSV output (level 5 rows with
    text), or None when it has none."""
    scores = []
    for row in table.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) >= 12 and cells[0] == "5" and cells[11].strip():
            try:
                confidence = float(cells[10])
            except ValueError:
                continue
            if confidence >= 0:
                scores.append(confidence)
    return round(sum(scores) / len(scores), 1) if scores else None


def read_text(
    data: bytes, max_chars: int, budget: int = MAX_INFLATED_BYTES, ocr: int = OCR_NEVER, progress=None
) -> PdfText:
    """The text of a PDF (pages joined with form feeds, line breaks as LF), reading pages until
    their text passes ``max_chars``, counted after line breaks are made LF, as the parser counts.
    With ``ocr`` (OCR_AUTO) a page with no text layer is OCR'd, never one with text; with
    OCR_ALWAYS every page is; ``progress(page)`` is called before each (1-based)."""
    if is_bomb(inflation_count(data, budget), len(data), budget):
        raise PdfReadError(f"its compressed streams inflate to over {budget:,} bytes (a decompression bomb)")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise PdfReadError("encrypted PDF that needs a password") from exc
        raise PdfReadError(f"not a readable PDF ({reason})") from exc
    try:
        pages, chars, result = [], 0, PdfText("", 0, len(pdf))
        for index in range(result.pages):
            page = pdf[index]
            pages.append(_page_text(page, index + 1, ocr, result, progress))
            page.close()
            chars += len(pages[-1]) + 1
            if chars > max_chars:
                break  # past the per-letter budget: the parser reads no further (and warns)
    except pdfium.PdfiumError as exc:
        raise PdfReadError(f"corrupt PDF ({exc})") from exc
    finally:
        pdf.close()
    result.text, result.pages_read = "\f".join(pages), len(pages)
    if not result.text.strip():
        if result.ocr_failed:
            raise PdfReadError(f"no text layer, and OCR failed: {next(iter(result.ocr_failed.values()))}")
        if result.ocr_pages:
            raise PdfReadError("no text layer, and OCR found no text on its pages")
        if result.unread_pages:
            raise PdfReadError("no text layer (an image-only PDF needs OCR first)")
        raise PdfReadError("no text layer, and no image: its pages are blank")
    return result


def _page_text(page, number: int, ocr: int, result: PdfText, progress) -> str:
    """One page's text: its text layer, or (by ``ocr``) its OCR, noted in ``result``. A page
    with no text layer is OCR'd (or listed unread) only when it holds an image (a scan): a page
    with neither is blank, as the last page of some letters is."""
    textpage = page.get_textpage()
    text = textpage.get_text_range().replace("\r\n", "\n")
    textpage.close()
    has_text = bool(text.strip())
    if has_text and ocr != OCR_ALWAYS or not has_text and not _has_image(page):
        return text  # text read from its layer; or a blank page (no text, no image): nothing to read
    if ocr == OCR_NEVER or len(result.ocr_pages) + len(result.ocr_failed) >= MAX_OCR_PAGES:
        if not has_text:
            result.unread_pages.append(number)
        return text
    if progress is not None:
        progress(number)
    try:
        read, confidence = page_ocr(page)
    except OcrFailed as exc:
        result.ocr_failed[number] = str(exc)
        return text
    result.ocr_pages.append(number)
    result.ocr_confidence[number] = confidence
    return read


def _read_exactly(stream, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def answer(data: bytes, max_chars: int, budget: int = MAX_INFLATED_BYTES, ocr: int = OCR_NEVER, progress=None) -> dict:
    """``read_text`` as the reply sent to the parent: ``{"text", "pages_read", "pages",
    "ocr_pages", "ocr_confidence", "unread_pages", "ocr_failed"}`` (page numbers as JSON keys
    are strings) or ``{"error": reason}``."""
    try:
        result = read_text(data, max_chars, budget, ocr, progress)
    except PdfReadError as exc:
        return {"error": str(exc)}
    return asdict(result)


def serve(memory_bytes: int, cpu_seconds: int, stdin=None, stdout=None) -> None:
    """The reader process: bound the address space, then answer requests until stdin closes,
    each within ``cpu_seconds`` of processor time (so that a reader left behind by a parent that
    was killed ends by itself)."""
    try:
        import resource
    except ImportError:  # no bounds on this platform: the inflation check still runs
        resource = None
    if resource is not None:
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:  # a process may lower its limit, never raise it
            memory_bytes = min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    while True:
        header = _read_exactly(stdin, 32)
        if header is None:
            return
        size, max_chars, budget, ocr = (int.from_bytes(header[i : i + 8], "big") for i in (0, 8, 16, 24))
        data = _read_exactly(stdin, size)
        if data is None:
            return
        if resource is not None:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            spent = int(usage.ru_utime + usage.ru_stime) + 1
            resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, resource.RLIM_INFINITY))
        try:
            reply = answer(data, max_chars, budget, ocr, lambda page: _send(stdout, {"progress": page}))
        except MemoryError:
            reply = {"error": f"over the PDF reader's memory bound of {memory_bytes:,} bytes (a decompression bomb?)"}
        del data
        _send(stdout, reply)


def _send(stdout, message: dict) -> None:
    body = json.dumps(message).encode("utf-8")
    stdout.write(len(body).to_bytes(8, "big") + body)
    stdout.flush()


if __name__ == "__main__":
    # tesseract on one thread: faster on a shared machine, and parse_many runs one reader per worker
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    serve(int(sys.argv[1]), int(sys.argv[2]))

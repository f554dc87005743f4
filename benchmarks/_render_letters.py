"""Letters written as text, typeset as born-digital PDFs the way the public letters are laid out,
so that a set of letters we have only as text (benchmarks/data/unseen_letters) can go through
our PDF reader, other extractors and OCR like the real PDFs do.

The header (the lines before the first line without a label, or the salutation), written as
``pdftotext -layout`` gives it ("Date Assigned:   04/22/2016     Date of Injury:   03/14/2012"),
is set as the table it is: each cell (words parted by two spaces or more) where its column puts
it, so that plain pdftotext and pdfminer.six write the labels first and the values after, as
they do with the public letters. Every other paragraph is joined and wrapped at the margin, in
pages of a fixed number of lines with a running footer ("Page N of M"). ReportLab (BSD)
typesets them: ``pip install reportlab``.
"""

from __future__ import annotations

import io as bytes_io
import re

# the header: the lines before the salutation whose label ends in a colon
_SALUTATION = re.compile(r"^\s*(dear|to whom)\b", re.IGNORECASE)
_CELL = re.compile(r"\S+(?: \S+)*")
LEFT, RIGHT, TOP, BOTTOM = 72, 540, 740, 72
FONT, SIZE, LEADING = "Helvetica", 11, 13.1
# the public letters' header table: the text columns of pdftotext -layout and the points where
# the letters set them (labels, values, labels, values)
_TABLE_COLUMNS = ((0, 72.0), (22, 179.4), (54, 328.92), (75, 426.84))
_CHARACTER = 5.0  # points a character of the header takes past its table column
_WRAPPED_AT = 70  # a line this long was wrapped by its writer: the next one goes on with it
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s")


def render_pdf(text: str) -> bytes:
    """A PDF of ``text`` laid out as an IMR letter (see the module's docstring)."""
    from reportlab.lib.pagesizes import letter as page_size
    from reportlab.pdfgen import canvas

    rows = _rows(text)
    per_page = int((TOP - BOTTOM) / LEADING)
    pages = [rows[at : at + per_page] for at in range(0, len(rows), per_page)] or [[]]
    out = bytes_io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=page_size)
    for number, page in enumerate(pages, 1):
        pdf.setFont(FONT, SIZE)
        # line by line, as the letters are written (the order of pdfium and pdftotext -raw);
        # plain pdftotext and pdfminer.six find the header's columns by where the cells are
        for at, row in enumerate(page):
            for column, text in row:
                pdf.drawString(_x(column), TOP - at * LEADING, text)
        pdf.drawCentredString(page_size[0] / 2, BOTTOM / 2, f"Page {number} of {len(pages)}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _x(column: int) -> float:
    """Where a cell starting at a text column is set: its table column's point, plus the
    characters past it (a body line's column is 0: the margin)."""
    start, x = max((c for c in _TABLE_COLUMNS if c[0] <= column), key=lambda c: c[0])
    return x + (column - start) * _CHARACTER


Row = list[tuple[int, str]]  # (column, text) of each cell of a line


def _rows(text: str) -> list[Row]:
    """The cells of each line: a header line's where its columns put them, any other line's
    paragraph joined, then wrapped at the page's margin; an empty line kept as a blank row."""
    rows: list[Row] = []
    in_header = True
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            rows.extend([(0, line)] for line in _wrap(" ".join(paragraph)))
            paragraph.clear()

    for line in text.splitlines():
        if in_header and line.strip() and (_SALUTATION.match(line) or ":" not in line):
            in_header = False
        if in_header:
            rows.append([(m.start(), m.group()) for m in _CELL.finditer(line)])
            continue
        if not line.strip() or _LIST_ITEM.match(line):
            flush()
        if not line.strip():
            rows.append([])
        else:
            paragraph.append(line.strip())
            if len(line.strip()) < _WRAPPED_AT:
                flush()
    flush()
    return rows


def _wrap(text: str) -> list[str]:
    """``text`` in lines that fit between the margins in the letter's font."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for word in text.split():
        if lines and stringWidth(f"{lines[-1]} {word}", FONT, SIZE) <= RIGHT - LEFT:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines

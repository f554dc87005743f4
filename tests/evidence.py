"""What an output's evidence must be: ``text`` is ``source[start:end]`` as written, on one line."""

from __future__ import annotations

import re

# line and page breaks, and the characters PDFs use for soft hyphens
OFF_ONE_LINE = re.compile("[\r\n\f\v\u2028\u2029\x85\ufffe\u00ad]")


def _letters(text: str) -> str:
    return re.sub(r"[\s\-\ufffe\u00ad]+", "", text)


def reads_as_written(source: str, text: str, start: int, end: int) -> bool:
    """``text`` is the source's ``[start, end)``: the same string where that is on one line;
    else a text on one line with the same characters but for white space and hyphens (a
    line break read as a space or a join, a soft hyphen as a hyphen or nothing)."""
    written = source[start:end]
    if not OFF_ONE_LINE.search(written):
        return text == written
    return not OFF_ONE_LINE.search(text) and _letters(text) == _letters(written)

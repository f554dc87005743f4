"""Calendar dates as IMR letters write them, normalised to ISO ``YYYY-MM-DD``.

Pure functions over :class:`DateTables` (compiled from ``resources/dates.json``'s month names):
``tables.pattern`` finds candidates, :func:`iso_from_match` and :func:`parse_date` turn one into
ISO. Two-digit years follow the contract: 00-29 -> 20xx, 30-99 -> 19xx.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class DateTables:
    """Month names (lower case) -> month number, the date pattern built from them, and the years
    a date of these letters can have (a date outside them is a typing error, never a date)."""

    months: Mapping[str, int]
    pattern: re.Pattern
    years: tuple[int, int] = (1, 9999)


def compile_tables(months: Mapping[str, int], years: tuple[int, int] = (1, 9999)) -> DateTables:
    """The date pattern for these month names: 01/29/09, 8-20-14, 05/06/2009, 2016-11-03,
    March 21, 2002, Mar. 21 2002, 21 March 2002."""
    months = MappingProxyType({name.lower(): number for name, number in months.items()})
    names = "|".join(sorted((re.escape(name) for name in months), key=len, reverse=True))
    # a date starts with a digit or a month name's first letters: the lookahead rejects every
    # other position before the alternation is tried
    starts = "|".join(sorted({re.escape(name[:3]) for name in months}))
    pattern = re.compile(
        rf"(?<![\w/.-])(?=\d|{starts})(?:"
        r"(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
        r"|(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
        rf"|(?P<mn>{names})\.?\s+(?P<md>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<my>\d{{4}})"
        rf"|(?P<dd>\d{{1,2}})\s+(?P<dmn>{names})\.?,?\s+(?P<dy>\d{{4}})"
        r")(?![\w/]|-\d)",
        re.IGNORECASE,
    )
    return DateTables(months, pattern, years)


def expand_year(year: int) -> int:
    """Two-digit years: 00-29 -> 2000s, 30-99 -> 1900s; four-digit years unchanged."""
    if year < 100:
        return 2000 + year if year <= 29 else 1900 + year
    return year


def _date(year: int, month: int, day: int) -> _dt.date | None:
    try:
        return _dt.date(expand_year(year), month, day)
    except ValueError:
        return None


def date_from_match(m: re.Match, tables: DateTables) -> _dt.date | None:
    """The calendar date a match of ``tables.pattern`` writes (any year), or None if there is none."""
    g = m.groupdict()
    if g["m"]:
        return _date(int(g["y"]), int(g["m"]), int(g["d"]))
    if g["iy"]:
        return _date(int(g["iy"]), int(g["im"]), int(g["id"]))
    if g["mn"]:
        return _date(int(g["my"]), tables.months[g["mn"].lower()], int(g["md"]))
    if g["dmn"]:
        return _date(int(g["dy"]), tables.months[g["dmn"].lower()], int(g["dd"]))
    return None


def plausible(date: _dt.date, tables: DateTables) -> bool:
    """Whether ``date``'s year is one these letters can have (``tables.years``)."""
    return tables.years[0] <= date.year <= tables.years[1]


def iso_from_match(m: re.Match, tables: DateTables) -> str | None:
    """ISO date for a match of ``tables.pattern``, or None if it is not a real date or its year
    is outside ``tables.years`` ("March 21, 0202")."""
    date = date_from_match(m, tables)
    return date.isoformat() if date is not None and plausible(date, tables) else None


def parse_date(text: str, tables: DateTables) -> str | None:
    """ISO date for a date string such as "8-20-14" or "March 21, 2002"; None if not a date."""
    m = tables.pattern.fullmatch(text.strip())
    return iso_from_match(m, tables) if m else None


def find_dates(text: str, tables: DateTables) -> list[tuple[int, int, str]]:
    """Every date in ``text`` as ``(start, end, iso)``."""
    return scan_dates(text, tables)[0]


def scan_dates(text: str, tables: DateTables) -> tuple[list[tuple[int, int, str]], list[tuple[int, int]]]:
    """Every date in ``text`` as ``(start, end, iso)``, and the ``(start, end)`` of calendar dates
    whose year is outside ``tables.years`` (a mistyped year: reported, never read)."""
    dates: list[tuple[int, int, str]] = []
    implausible: list[tuple[int, int]] = []
    for m in tables.pattern.finditer(text):
        date = date_from_match(m, tables)
        if date is None:
            continue
        if plausible(date, tables):
            dates.append((m.start(), m.end(), date.isoformat()))
        else:
            implausible.append((m.start(), m.end()))
    return dates, implausible

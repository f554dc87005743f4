"""Calendar dates as IMR letters write them, normalised to ISO ``YYYY-MM-DD``.

Pure functions over :class:`DateTables`, compiled from ``resources/dates.json``: its month names
and its table of date formats (regex fragments with placeholders, see :data:`PLACEHOLDERS`).
``tables.pattern`` finds candidates, :func:`iso_from_match` and :func:`parse_date` turn one into
ISO. Two-digit years follow the contract: 00-29 -> 20xx, 30-99 -> 19xx.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

# A format's placeholders -> the regex each stands for ({g}: the format's group-name prefix;
# {names}: the month names). A format is a regex fragment written with them, e.g.
# "{month}{sep}{day}{same_sep}{year}" for 8-20-14 and 05/06/2009.
PLACEHOLDERS = {
    "{day}": r"(?P<{g}day>\d{{1,2}})",
    "{day2}": r"(?P<{g}day>\d{{2}})",
    "{month}": r"(?P<{g}month>\d{{1,2}})",
    "{month2}": r"(?P<{g}month>\d{{2}})",
    "{month_name}": r"(?P<{g}month_name>{names})\.?",
    "{year}": r"(?P<{g}year>\d{{4}}|\d{{2}})",
    "{year4}": r"(?P<{g}year>\d{{4}})",
    "{ordinal}": r"(?:st|nd|rd|th)",
    "{sep}": r"(?P<{g}sep>[/-])",
    "{same_sep}": r"(?P={g}sep)",
}
_PLACEHOLDER = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
_DIGIT_STARTS = ("{day", "{month}", "{month2}", "{year")


@dataclass(frozen=True)
class DateTables:
    """Month names (lower case) -> month number, the date pattern built from them and the
    formats, and the years a date of these letters can have (a date outside them is a typing
    error, never a date)."""

    months: Mapping[str, int]
    pattern: re.Pattern
    years: tuple[int, int] = (1, 9999)


def format_regex(date_format: str, names: str, prefix: str) -> str:
    """One format's regex: its placeholders replaced, their groups named ``prefix`` + field."""
    return _PLACEHOLDER.sub(lambda m: PLACEHOLDERS[m.group()].format(g=prefix, names=names), date_format)


def format_fields(date_format: str) -> set[str]:
    """The date fields a format gives (day, month or month_name, year)."""
    return {p.strip("{}").rstrip("2").replace("year4", "year") for p in _PLACEHOLDER.findall(date_format)} & {
        "day",
        "month",
        "month_name",
        "year",
    }


def compile_tables(months: Mapping[str, int], formats: Sequence[str], years: tuple[int, int] = (1, 9999)) -> DateTables:
    """The date pattern for these month names and formats (tried in their order at each
    position): one alternation, each format in a group ``fN`` whose fields are ``fN_day`` ..."""
    months = MappingProxyType({name.lower(): number for name, number in months.items()})
    names = "|".join(sorted((re.escape(name) for name in months), key=len, reverse=True))
    alternatives = "|".join(
        f"(?P<f{i}>{format_regex(date_format, names, f'f{i}_')})" for i, date_format in enumerate(formats)
    )
    lookahead = _start_lookahead(formats, months)
    pattern = re.compile(rf"(?<![\w/.-]){lookahead}(?:{alternatives})(?![\w/]|-\d)", re.IGNORECASE)
    return DateTables(months, pattern, years)


def _start_lookahead(formats: Sequence[str], months: Mapping[str, int]) -> str:
    """Where every format starts with a digit or a month name, a lookahead that rejects every
    other position before the alternation is tried (most of a text); else none."""
    first: set[str] = set()
    for date_format in formats:
        if date_format.startswith(_DIGIT_STARTS):
            first.add("\\d")
        elif date_format.startswith("{month_name}"):
            first.update(re.escape(name[:3]) for name in months)
        else:
            return ""
    return f"(?={'|'.join(sorted(first))})"


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
    prefix = f"{m.lastgroup}_"  # the format that matched: its group closes last
    groups = m.re.groupindex
    day, year = m.group(prefix + "day"), m.group(prefix + "year")
    if prefix + "month" in groups and m.group(prefix + "month"):
        month = int(m.group(prefix + "month"))
    else:
        month = tables.months.get((m.group(prefix + "month_name") or "").lower(), 0)
    return _date(int(year), month, int(day))


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

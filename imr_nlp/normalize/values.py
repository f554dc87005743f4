"""Numbers, units, strengths, quantities, refills, frequencies and durations: pure functions.

Each ``find_*`` function takes a piece of text (usually a decision's item header) and the
:class:`DoseTables` compiled from the rule data (``resources/doses.json``), and returns
``(start, end, value)`` tuples with offsets into that text, so callers can keep evidence spans.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from imr_nlp import resources

# "5/325mg", "7.5-325mg", "10/325 mg", "5mg/325mg", "50/325/40 mg": combination strengths, one
# number per ingredient, kept apart from single strengths. Without a unit ("Norco 10/325") the last
# number must have three digits, which no date's day, month or year and no pain score has.
_COMBINATION_PART = r"\d+(?:\.\d+)?"
COMBINATION_STRENGTH = re.compile(
    rf"(?<![\w./]){_COMBINATION_PART}(?:\s?mg)?(?:\s?[/-]\s?{_COMBINATION_PART}(?:\s?mg)?)*?\s?[/-]\s?"
    rf"(?:{_COMBINATION_PART}\s?mg\b|\d{{3}}(?![\w/%-]|\.\d))",
    re.IGNORECASE,
)
# The unit of a combination written without one: combination tablets are labelled in mg.
COMBINATION_UNIT = "mg"
_VISIT_PLAN = re.compile(r"\b(?P<n>\d)\s?x\s?(?P<w>\d{1,2})\b(?!\s*(?:mg|ml|%|refill))", re.IGNORECASE)
_EVERY_HOURS = re.compile(r"\b(?:every|q)\s?(\d{1,2})\s?(?:hours?|hrs?|h)\b(?!\s*-)", re.IGNORECASE)


def _alternation(words) -> str:
    """A regex alternation of ``words``, longest first (so "tablets" is tried before "tab")."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@dataclass(frozen=True)
class DoseTables:
    """The dose vocabulary of a ``resources.DoseRules`` (number words, units, count nouns,
    frequency wordings) compiled into the patterns the finders below take as an argument."""

    number_words: Mapping[str, int]
    units: Mapping[str, str]
    frequencies: tuple[tuple[re.Pattern, str], ...]
    strength: re.Pattern
    quantity: re.Pattern
    refills: re.Pattern
    duration: re.Pattern
    per_week: re.Pattern
    per_week_range: re.Pattern


def compile_tables(rules: resources.DoseRules) -> DoseTables:
    """The finders' patterns, built from the rule data (once per component, not per call)."""
    number_words = MappingProxyType({k.lower(): v for k, v in rules.number_words.items()})
    units = MappingProxyType(dict(rules.units))
    count_nouns = _alternation(rules.count_nouns)
    num_word = _alternation(number_words)
    number = rf"(?:\d+(?:\.\d+)?|\.\d+|{num_word})"
    unit_alt = _alternation(units)
    return DoseTables(
        number_words=number_words,
        units=units,
        frequencies=tuple((re.compile(r.pattern, re.IGNORECASE), r.code) for r in rules.frequencies),
        strength=re.compile(
            rf"(?<![\w./,])(?P<value>\d+(?:\.\d+)?|\.\d+)\s?(?P<unit>(?:mg|mcg)\s?/\s?(?:\d+(?:\.\d+)?\s?)?ml|{unit_alt})(?![a-z])",
            re.IGNORECASE,
        ),
        quantity=re.compile(
            rf"(?:#\s?(?P<hash>\d+)\b"
            rf"|\b(?:quantity|qty|quant)\.?\s*(?:of\s*)?[:#]?\s*(?P<qty>\d+|{num_word})\b"
            rf"|\btimes\s+(?P<times>\d+|{num_word})\b(?!\s*(?:weeks?|days?|months?|a\s+(?:week|day|month)|per|weekly|daily)\b)"
            rf"|\bx\s?(?P<x>\d+)\b(?!\s*(?:weeks?|days?|months?|refills?)\b)"
            rf"|\((?P<paren>\d+)\)\s*$"
            rf"|\b(?P<count>\d+|{num_word})(?:\s+\((?P<count_digits>\d+)\))?(?:\s+[A-Za-z/-]+){{0,3}}?\s+(?:{count_nouns})\b"
            rf"|\b(?:{count_nouns})\s*,\s*(?P<trailing>\d+)\b"
            rf")",
            re.IGNORECASE,
        ),
        refills=re.compile(
            rf"(?:\b(?:with|plus|and|\+)\s+(?:x\s?)?(?P<n>\d+|{num_word})?\s*(?:x\s?)?refills?\b"
            rf"|\b(?P<lead>\d+|{num_word})\s+refills?\s+of\b"
            rf"|\b(?P<none>no)\s+refills?\b"
            rf"|\brefills?\s*[:x#]?\s*(?P<after>\d+)\b"
            rf"|\bx\s?(?P<times>\d+)\s+refills?\b"
            rf"|(?<![#\w])(?P<bare>\d+|{num_word})\s+refills?\b)",
            re.IGNORECASE,
        ),
        duration=re.compile(
            rf"(?:\b(?:for|times|x|over|during)\s+(?:a\s+(?:total\s+of\s+)?|an?\s+additional\s+|another\s+)?(?P<v1>{number})\s*(?:more\s+|additional\s+)?(?P<u1>days?|weeks?|months?)\b"
            rf"|\b(?P<v2>{number})[\s-](?P<u2>days?|weeks?|months?)(?:'s)?\s+(?:rental|use|supply|coverage|trial|course|of)\b"
            rf"|\b(?P<v3>\d+)\s+(?P<u3>days?|weeks?|months?)\b(?!\s+(?:a|per|each|every|/)\s*(?:week|month|year)))",
            re.IGNORECASE,
        ),
        # "3 times a week", "two times weekly", "2x/week"
        per_week=re.compile(
            rf"\b(?P<n>{number}|twice|once)(?:\s*(?:x|times)\s*|\s+)(?:a|per|each|every|/)?\s*(?:week|weekly|wk)\b",
            re.IGNORECASE,
        ),
        per_week_range=re.compile(
            rf"\b{number}\s*(?:-|to|or)\s*{number}\s*(?:x|times)?\s*(?:a|per|each|every|/)?\s*(?:week|weekly|wk)\b",
            re.IGNORECASE,
        ),
    )


# The largest number read as a count or a dose: beyond it a string of digits is an identifier
# or noise, and would not fit the int64 columns of the tables.
MAX_NUMBER = 1e12


def to_number(text: str, number_words: Mapping[str, int]) -> float | None:
    """Digits or a number word ("six", "twelve") as a number; None otherwise (also for numbers
    beyond ``MAX_NUMBER``: "#" and 400 nines is no quantity)."""
    t = text.strip().lower()
    if t in number_words:
        return float(number_words[t])
    try:
        number = float(t)
    except ValueError:
        return None
    return number if abs(number) <= MAX_NUMBER else None


def canonical_unit(unit: str, units: Mapping[str, str]) -> str:
    """Lower-case canonical unit: "gm" -> "g", "MG" -> "mg", "mg/1ml" -> "mg/ml"."""
    u = re.sub(r"\s+", "", unit.lower())
    u = re.sub(r"/\d+(?:\.\d+)?", "/", u)
    return units.get(u, u)


def find_strengths(text: str, tables: DoseTables) -> list[tuple[int, int, dict]]:
    """Single strengths ("2mg", "0.5 mg", "5%", "10mg/1ml") as {"value", "unit"}."""
    combos = [m.span() for m in COMBINATION_STRENGTH.finditer(text)]
    out = []
    for m in tables.strength.finditer(text):
        if any(s <= m.start() < e for s, e in combos):
            continue
        value = to_number(m.group("value"), tables.number_words)
        if value is not None:
            out.append((m.start(), m.end(), {"value": value, "unit": canonical_unit(m.group("unit"), tables.units)}))
    return out


def find_combination_strengths(text: str) -> list[tuple[int, int, list[dict]]]:
    """Combination strengths ("10/325mg", "7.5-325 mg", "Norco 10/325") as one {"value", "unit"}
    per ingredient, in the order written."""
    out = []
    for m in COMBINATION_STRENGTH.finditer(text):
        parts = [{"value": float(n), "unit": COMBINATION_UNIT} for n in re.findall(_COMBINATION_PART, m.group())]
        out.append((m.start(), m.end(), parts))
    return out


# Which wording gave a quantity, strongest first: "#30" and "quantity 6" beat "times 6", which
# beats "6 visits" (and "one tablet" in a sig), which beats a trailing "(4)".
QUANTITY_KINDS = ("hash", "qty", "times", "x", "count", "trailing", "paren")


def find_quantities_with_kind(text: str, tables: DoseTables) -> list[tuple[int, int, int, str]]:
    """Quantities with their kind: "#30", "quantity: 6", "times 6", "6 visits", "Eight (8)", "(4)"."""
    out = []
    for m in tables.quantity.finditer(text):
        g = m.groupdict()
        kind = next((k for k in QUANTITY_KINDS if g[k]), None)
        if kind is None:
            continue
        raw = g["count_digits"] or g[kind]
        value = to_number(raw, tables.number_words)
        if value is None or value != int(value):
            continue
        if g["count"] and g["count"].lower() in ("once", "twice", "thrice"):
            continue
        out.append((m.start(), m.end(), int(value), kind))
    return out


def find_quantities(text: str, tables: DoseTables) -> list[tuple[int, int, int]]:
    """Quantities as (start, end, value); see :func:`find_quantities_with_kind`."""
    return [(s, e, v) for s, e, v, _ in find_quantities_with_kind(text, tables)]


def pick_quantity(found: list[tuple[int, str]]) -> int | None:
    """The item's quantity from (value, kind) pairs: the strongest kind wins; two different
    values of that kind make the quantity ambiguous (None)."""
    for kind in QUANTITY_KINDS:
        vals = {v for v, k in found if k == kind}
        if len(vals) == 1:
            return vals.pop()
        if len(vals) > 1:
            return None
    return None


def find_refills(text: str, tables: DoseTables) -> list[tuple[int, int, int]]:
    """Refills: "plus refill" = 1, "with one refill" = 1, "with x3 refills" = 3, "no refills" = 0."""
    out = []
    for m in tables.refills.finditer(text):
        g = m.groupdict()
        if g["none"]:
            value = 0.0
        else:
            raw = g["n"] or g["lead"] or g["after"] or g["times"] or g["bare"]
            value = to_number(raw, tables.number_words) if raw else 1.0
        if value is not None:
            out.append((m.start(), m.end(), int(value)))
    return out


def find_durations(text: str, tables: DoseTables) -> list[tuple[int, int, dict]]:
    """Durations: "for 6 weeks", "times 2 weeks", "30 day rental", "14 days" as {"value", "unit"}."""
    out = []
    for m in tables.duration.finditer(text):
        g = m.groupdict()
        raw, unit = next((g[f"v{i}"], g[f"u{i}"]) for i in (1, 2, 3) if g[f"v{i}"])
        value = to_number(raw, tables.number_words)
        if value is None:
            continue
        out.append((m.start(), m.end(), {"value": value, "unit": unit.lower().rstrip("s")}))
    return out


def find_frequencies(text: str, tables: DoseTables) -> list[tuple[int, int, str]]:
    """Frequency codes: QD, BID, TID, QID, QHS, QOD, QW, QM, PRN, Q<n>H and <n>xW."""
    out: list[tuple[int, int, str]] = []
    ranges = [m.span() for m in tables.per_week_range.finditer(text)]
    for m in tables.per_week.finditer(text):
        if any(s <= m.start() < e for s, e in ranges):
            continue
        word = m.group("n").lower()
        n = {"twice": 2.0, "once": 1.0}.get(word) or to_number(word, tables.number_words)
        if n:
            out.append((m.start(), m.end(), "QW" if n == 1 else f"{int(n)}xW"))
    for m in _VISIT_PLAN.finditer(text):
        out.append((m.start(), m.end(), f"{int(m.group('n'))}xW"))
    for m in _EVERY_HOURS.finditer(text):
        out.append((m.start(), m.end(), f"Q{int(m.group(1))}H"))
    taken = [(s, e) for s, e, _ in out]
    for pattern, code in tables.frequencies:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            out.append((m.start(), m.end(), code))
            taken.append(m.span())
    return sorted(out)


def visit_plan(text: str) -> tuple[int, int] | None:
    """A "2x4" visit plan as (times per week, weeks), or None."""
    m = _VISIT_PLAN.search(text)
    return (int(m.group("n")), int(m.group("w"))) if m else None

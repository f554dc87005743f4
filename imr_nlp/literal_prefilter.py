"""Literal prefilters for regular expressions: strings of which every match holds at least one.

A rule pattern scanned over every rationale sentence costs the regular expression engine a try
at every character, though most sentences hold none of the pattern's words. ``required_literals``
reads a compiled pattern's parse tree and returns a set of strings such that any match of the
pattern contains one of them (the technique of RE2's and codesearch's prefilters); a sentence
holding none of them cannot match. ``LiteralIndex`` finds the literals of many patterns in one
scan shaped as a trie, and so which patterns are worth trying on which sentence. The answer is
exact: a piece it cannot bound (a class of many characters, a repeat that may be empty, a back
reference, a group that ignores case) only cuts a run of literals, and a pattern with no sure
piece at all, or one compiled to ignore case, gets ``None``, "always scan".
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

try:  # the parser of the standard library's regular expressions (re._parser since 3.11)
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - an interpreter without it scans every time
    _sre_parse = None

MAX_EXACT = 64  # strings an "exactly one of" set may grow to before it is closed
MAX_CLASS = 12  # characters of a character class read as literals
MAX_LITERAL = 64  # a longer literal is cut to its start (still in every match; keeps the trie shallow)

_ZERO_WIDTH = ("AT", "ASSERT", "ASSERT_NOT")
_GROUPS = ("SUBPATTERN", "ATOMIC_GROUP")
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")


class _Info(NamedTuple):
    """What a piece of a pattern matches: ``exact``, the set of every string it can match (None
    when unbounded), and ``required``, strings one of which each match contains (None: none known)."""

    exact: frozenset[str] | None
    required: frozenset[str] | None


_UNKNOWN = _Info(None, None)
_EMPTY = _Info(frozenset({""}), None)


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    """Of candidate sets, the one a text is least likely to hold by chance: longest shortest string."""
    usable = [c for c in candidates if c and "" not in c]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(map(len, c)), -len(c)))


def _as_required(exact: frozenset[str] | None) -> frozenset[str] | None:
    return exact if exact and "" not in exact else None


def _class_chars(items: list) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, value in items:
        name = str(op)
        if name == "LITERAL":
            chars.add(chr(value))
        elif name == "RANGE" and value[1] - value[0] < MAX_CLASS:
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:  # NEGATE, CATEGORY (\s, \w), a wide range
            return None
    return frozenset(chars) if 0 < len(chars) <= MAX_CLASS else None


def _group_body(name: str, value: Any) -> Any:
    """The pieces of a group, or None for a group that turns case-folding on or off (its
    letters are not literal)."""
    if name != "SUBPATTERN":
        return value
    _group, add_flags, del_flags, body = value
    return None if (add_flags | del_flags) & re.IGNORECASE else body


def _parsed(pattern: re.Pattern) -> Any:
    """A compiled pattern's parse tree, or None where it cannot be read as literals: bytes, a
    pattern compiled to ignore case, or a parser of another Python version."""
    if _sre_parse is None or not isinstance(pattern.pattern, str) or pattern.flags & re.IGNORECASE:
        return None
    try:
        return _sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:
        return None


def _item(op: Any, value: Any) -> _Info:
    name = str(op)
    if name == "LITERAL":
        return _Info(frozenset({chr(value)}), None)
    if name == "IN":
        chars = _class_chars(value)
        return _UNKNOWN if chars is None else _Info(chars, None)
    if name in _ZERO_WIDTH:
        return _EMPTY  # zero width: a lookaround's own words are not counted on
    if name in _GROUPS:
        body = _group_body(name, value)
        return _UNKNOWN if body is None else _sequence(body)
    if name == "BRANCH":
        parts = [_sequence(alternative) for alternative in value[1]]
        exact = None
        if all(p.exact is not None for p in parts):
            union = frozenset().union(*(p.exact for p in parts))
            exact = union if len(union) <= MAX_EXACT else None
        required = [p.required or _as_required(p.exact) for p in parts]
        return _Info(exact, None if any(r is None for r in required) else frozenset().union(*required))
    if name in _REPEATS:
        low, high, body = value
        inner = _sequence(body)
        if low == high == 1:
            return inner
        if low >= 1:  # each match holds at least one copy of the body
            return _Info(None, inner.required or _as_required(inner.exact))
        return _UNKNOWN
    return _UNKNOWN  # ANY, NOT_LITERAL, GROUPREF, GROUPREF_EXISTS, CATEGORY...


def _sequence(items: Any) -> _Info:
    """A concatenation: runs of exactly-known pieces multiplied out, and the best required set."""
    candidates: list[frozenset[str]] = []
    run: frozenset[str] = frozenset({""})
    whole_exact = True
    for op, value in items:
        info = _item(op, value)
        if info.exact is None:
            whole_exact = False
            candidates.append(run)
            run = frozenset({""})
            if info.required is not None:
                candidates.append(info.required)
            continue
        if len(run) * len(info.exact) > MAX_EXACT:
            whole_exact = False
            candidates.append(run)
            run = info.exact
            continue
        run = frozenset(a + b for a in run for b in info.exact)
    candidates.append(run)
    return _Info(run if whole_exact else None, _best(candidates))


def required_literals(pattern: re.Pattern) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` holds at least one, or None (scan always)."""
    tree = _parsed(pattern)
    if tree is None:
        return None  # scanning is always right
    info = _sequence(tree)
    literals = info.required or _as_required(info.exact)
    return None if literals is None else frozenset(literal[:MAX_LITERAL] for literal in literals)


def trie_alternation(literals: list[str]) -> str:
    """One non-capturing alternation of the literals shaped as a trie: at a position the text
    picks one path, so the match is the longest literal starting there, and every other is one of
    its prefixes."""
    trie: dict = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = True

    def walk(node: dict) -> str:
        ends_here = "" in node
        branches = [re.escape(char) + walk(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if ends_here else body

    return "(?:" + walk(trie) + ")"


class LiteralIndex:
    """The required literals of many patterns found in one scan of a text: which patterns can
    match in which stretch of it (``candidates``): exactly those one of whose literals it holds."""

    def __init__(self, patterns: list[re.Pattern]) -> None:
        owners: dict[str, set[int]] = {}
        always: set[int] = set()
        for number, pattern in enumerate(patterns):
            literals = required_literals(pattern)
            if literals is None:
                always.add(number)
            else:
                for literal in literals:
                    owners.setdefault(literal, set()).add(number)
        self.always = frozenset(always)
        literals = sorted(owners)
        # for each literal, the patterns of it and of every literal that is its prefix
        self.found_with: dict[str, list[frozenset[int]]] = {
            literal: [frozenset(owners[literal[:k]]) for k in range(1, len(literal) + 1) if literal[:k] in owners]
            for literal in literals
        }
        # a lookahead: literals that overlap, or one inside another, are all found
        self.scanner = re.compile(f"(?=({trie_alternation(literals)}))") if literals else None

    def candidates(self, text: str, stretches: list[tuple[int, int]]) -> list[set[int]]:
        """For each stretch ``(start, end)`` of ``text``, the numbers of the patterns one of whose
        required literals lies wholly inside it (the scan stops at ``end``: a literal running
        over it is not seen), with those that have no required literals."""
        found = [set(self.always) for _ in stretches]
        if self.scanner is None:
            return found
        for slot, (start, end) in zip(found, stretches, strict=True):
            for m in self.scanner.finditer(text, start, end):
                for owners in self.found_with[m.group(1)]:
                    slot |= owners
        return found


PREFIX_CHARS = 3  # characters of a match's start that ``match_prefixes`` spells out
MAX_PREFIXES = 2048  # prefixes a pattern may have before it is given up (None: no guard)
_SPACE = frozenset(" \t\n\r\f\v")
_DIGITS = frozenset("0123456789")


def match_prefixes(pattern: re.Pattern, length: int = PREFIX_CHARS) -> frozenset[str] | None:
    """Strings of which every match of ``pattern`` starts with one (each at most ``length``
    characters; a shorter one where the pattern's next piece is not spelled out), or None when
    some match may start with anything. A scan can then try the pattern only where one of them
    starts: the answer is exact, as ``required_literals``'s is."""
    tree = _parsed(pattern)
    if tree is None:
        return None  # no guard is always right
    try:
        found = _starts(list(tree), length)
    except _Unbounded:
        return None
    if not found or "" in found or len(found) > MAX_PREFIXES:
        return None
    return frozenset(found)


class _Unbounded(Exception):
    """A pattern whose starts cannot be spelled out in a few strings."""


def _spelled(op: Any, value: Any) -> frozenset[str] | None:
    """The characters one piece matches, when it is a character or a small class (spaces too)."""
    name = str(op)
    if name == "LITERAL":
        return frozenset({chr(value)})
    if name == "IN":
        if len(value) == 1 and str(value[0][0]) == "CATEGORY":
            return {"CATEGORY_SPACE": _SPACE, "CATEGORY_DIGIT": _DIGITS}.get(str(value[0][1]))
        return _class_chars(value)
    return None


def _starts(items: list, length: int) -> set[str]:
    """The starts (up to ``length`` characters) of every match of a sequence of pieces."""
    if length <= 0 or not items:
        return {""}
    (op, value), rest = items[0], items[1:]
    name = str(op)
    if name in _ZERO_WIDTH:
        return _starts(rest, length)
    chars = _spelled(op, value)
    if chars is not None:
        tails = _starts(rest, length - 1)
        out = {c + t for c in chars for t in tails}
    elif name in _GROUPS:
        body = _group_body(name, value)
        if body is None:
            raise _Unbounded
        out = _starts(list(body) + rest, length)
    elif name == "BRANCH":
        out = set().union(*(_starts(list(alternative) + rest, length) for alternative in value[1]))
    elif name in _REPEATS:
        low, high, body = value
        # one copy, then the rest; where more copies may follow, only the first copy is sure
        first = _starts(list(body) + rest, length) if high == 1 else _starts(list(body), length)
        out = first if low >= 1 else first | _starts(rest, length)
    else:  # a piece not spelled out (\w, any character, a back reference...)
        return {""}  # the start so far is all that is sure
    if len(out) > MAX_PREFIXES:
        raise _Unbounded
    return out

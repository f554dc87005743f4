"""What ends a sentence, defined once (``sentences.json`` ``ends``: stops and closers) and
compiled here into what each reader needs: the sentence splitter's character sets, whether a
line ends a sentence, where a sentence may end inside a text, and the break after a stop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class SentenceEnds:
    """A sentence ends at a stop (".", "?", "!"), followed by any closers (quotes, brackets)."""

    stops: frozenset[str]
    closers: frozenset[str]
    ends_text: re.Pattern  # a stop and its closers at the end of a text (search with endpos)
    stop_before_space: re.Pattern  # a stop followed by white space: a sentence may end there
    break_before_capital: re.Pattern  # the white space between a stop and a capital

    @property
    def stop_or_closer(self) -> frozenset[str]:
        return self.stops | self.closers


@lru_cache(maxsize=8)
def compile_sentence_ends(stops: tuple[str, ...], closers: tuple[str, ...]) -> SentenceEnds:
    """The patterns of these stops and closers (cached: readers compile the shared table per doc)."""
    stop = "[" + "".join(re.escape(c) for c in stops) + "]"
    close = "[" + "".join(re.escape(c) for c in closers) + "]*" if closers else ""
    return SentenceEnds(
        frozenset(stops),
        frozenset(closers),
        re.compile(f"{stop}{close}$"),
        re.compile(rf"{stop}\s"),
        re.compile(rf"(?<={stop})\s+(?=[A-Z])"),
    )


def sentence_ends_from(table: dict) -> SentenceEnds:
    """The SentenceEnds of a shared table ``{"stops": [...], "closers": [...]}``."""
    return compile_sentence_ends(tuple(table["stops"]), tuple(table["closers"]))

"""Words cut by a PDF's soft hyphen: joined ("guide-lines" -> "guidelines") or hyphenated
("follow-up"), decided by the letter's own spelling, a lexicon and word formation.

A PDF marks a hyphen that ended a line with U+FFFE (pdfium, which also joins the line) or with
U+00AD before the line break. The mark does not tell whether the writer's word had the hyphen,
so the cleaning asks :class:`Hyphenation`: the word is joined when the letter writes it joined
more often than hyphenated elsewhere, else when the joined word is a word, else when its first
half is a combining form closed up before a consonant ("electro" + "diagnostic"); otherwise the
hyphen stays ("sprain-strain", "x-ray"). The rules are data (the tokenizer's layout.json,
``soft_hyphens``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from imr_nlp import resources

_VOWELS = frozenset("aeiou")


@lru_cache(maxsize=2)
def known_words(common_min_count: int) -> frozenset[str]:
    """Lower-case words: English words seen at least ``common_min_count`` times in
    pyspellchecker's frequency list, every word of the ICD-10-CM code set, the one-word drug
    names and the ICD-10-PCS procedure terms (built once, on first use: a letter without a soft
    hyphen never needs it)."""
    from imr_nlp.normalize.drugs import code_set_words, default_lexicon, english_words

    drug_names = (name for name in default_lexicon().names if name.isalpha())
    procedures = resources.load("procedure_terms.json").terms
    return english_words(common_min_count) | code_set_words() | frozenset(drug_names) | frozenset(procedures)


class Hyphenation:
    """Decides, for the two halves of a word cut by a soft hyphen, whether they join."""

    def __init__(self, rules: resources.SoftHyphenRules, min_half: int = 3) -> None:
        self.rules = rules
        self.min_half = min_half
        self.combining_form = re.compile(rules.combining_form)
        # the last letter and its lower-case text, one tuple (threads read it whole)
        self._lowered: tuple[str, str] = ("", "")

    def joins(self, left: str, right: str, letter: str, glued: int = 0) -> bool:
        """Whether ``left`` + ``right`` is one word (else ``left-right``); ``letter`` is the
        whole text, whose own spelling of the word decides first (less ``glued`` joined
        spellings that an extractor made by dropping the hyphen: they are the question)."""
        if not (left.isalpha() and right.isalpha()):
            return False
        lowered = self._lowered
        if lowered[0] is not letter:
            lowered = self._lowered = (letter, letter.lower())
        joined, hyphenated = _spellings(left.lower(), right.lower(), lowered[1])
        written = (joined - glued, hyphenated)
        if written[0] != written[1]:
            return written[0] > written[1]
        if written[1]:
            return False  # as often hyphenated as joined: the hyphen as printed
        if (left + right).lower() in known_words(self.rules.common_word_min_count):
            return True
        return bool(self.combining_form.match(left.lower())) and right[0].lower() not in _VOWELS

    def split(self, word: str, letter: str, glued: int) -> int | None:
        """Where ``word``, which an extractor may have glued by dropping a line-end hyphen (it is
        written ``glued`` times so in ``letter``), had its hyphen: the one place that parts it
        into two words (both of ``min_half`` letters or more, and words, or written hyphenated
        by the letter) where :meth:`joins` keeps the hyphen (of several, the one whose halves the
        letter uses most as words); None for a word, or no such place."""
        words = known_words(self.rules.common_word_min_count)
        lower = word.lower()
        if not word.isalpha() or lower in words:
            return None
        least = self.min_half
        places = [
            at
            for at in range(least, len(word) - least + 1)
            if (
                (lower[:at] in words and lower[at:] in words)
                or _whole_words(f"{lower[:at]}-{lower[at:]}", letter.lower())
            )
            and not self.joins(word[:at], word[at:], letter, glued)
        ]
        if len(places) > 1:  # "sprains|train" or "sprain|strain": the halves the letter uses elsewhere
            lower_letter = letter.lower()
            uses = {
                at: _whole_words(lower[:at], lower_letter) + _whole_words(lower[at:], lower_letter) for at in places
            }
            best = max(uses.values())
            places = [at for at in places if uses[at] == best and best > 0]
        return places[0] if len(places) == 1 else None


def _spellings(left: str, right: str, lower_letter: str) -> tuple[int, int]:
    """How often the (lower-case) letter writes the word joined and hyphenated, as whole words."""
    return _whole_words(left + right, lower_letter), _whole_words(f"{left}-{right}", lower_letter)


def _whole_words(word: str, text: str) -> int:
    if word not in text:  # most words: no regex needed
        return 0
    return len(re.findall(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text))

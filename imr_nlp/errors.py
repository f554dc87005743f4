"""Errors and warning texts, in one place."""

from __future__ import annotations


class InputError(ValueError):
    """A file or input that cannot be read as an IMR letter (missing, unreadable, corrupt...)."""

    def __init__(self, path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


NOT_A_LETTER = "no IMR decisions found: the text does not look like an IMR final determination letter"
NO_DECISION_SECTION = "no 'IMR ISSUES, DECISIONS AND RATIONALES' section found: the letter may be truncated"
NO_DECISION_IN_SECTION = "the decisions section has no item with an outcome: the letter may be truncated"


def no_rationale(decision: int) -> str:
    return f"decision {decision}: no 'Decision rationale:' found: the letter may be truncated"


def no_conclusion(decision: int) -> str:
    return f"decision {decision}: the rationale states no conclusion: the letter may be truncated"


def ends_mid_sentence(decision: int) -> str:
    return f"decision {decision}: the rationale ends mid-sentence: the letter may be truncated"


EMPTY_TEXT = "empty text"

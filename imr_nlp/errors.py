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


def layout_without_decisions(layout: str) -> str:
    """A letter of a known layout (not "unknown") in which no decision could be read."""
    return f"{layout} layout: no decision could be read from this letter"


def layout_without_outcomes(layout: str, decisions: list[int]) -> str:
    """Decisions of a known layout whose outcome is not written in a form imr_nlp reads."""
    which = ", ".join(map(str, decisions))
    return (
        f"{layout} layout: the outcome of decision(s) {which} is not stated as upheld or overturned in a form "
        "imr_nlp reads (medically_necessary is read from the rationale where it says so)"
    )


def layout_without_rationale(layout: str, decisions: list[int]) -> str:
    """Decisions of another layout with no rationale part imr_nlp reads (not a sign of truncation)."""
    return f"{layout} layout: no rationale read for decision(s) {', '.join(map(str, decisions))}"

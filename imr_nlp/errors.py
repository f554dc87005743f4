"""Errors and warning texts, in one place."""

from __future__ import annotations


class InputError(ValueError):
    """A file or input that cannot be read as an IMR letter (missing, unreadable, corrupt...)."""

    def __init__(self, path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


NOT_A_LETTER = "no IMR decisions found: the text does not look like an IMR final determination letter"
NO_DECISION_SECTION = "no 'IMR ISSUES, DECISIONS AND RATIONALES' section found"
EMPTY_TEXT = "empty text"

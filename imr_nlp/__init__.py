"""imr_nlp: California workers' compensation IMR final determination letters as structured data.

import imr_nlp
det = imr_nlp.parse(text)          # -> imr_nlp.Determination (pydantic)
det = imr_nlp.parse_file("letter.pdf")
nlp = imr_nlp.load()               # the spaCy pipeline; doc._.determination
"""

from imr_nlp.api import assert_spans, load, parse, parse_file, parse_many
from imr_nlp.errors import InputError
from imr_nlp.models import (
    SCHEMA_VERSION,
    Assertions,
    Citation,
    DateMention,
    Decision,
    Determination,
    Duration,
    GuidelineBasis,
    Medication,
    Mention,
    Patient,
    Reviewer,
    Strength,
    Treatment,
)

__version__ = "0.1.0"

__all__ = [
    "SCHEMA_VERSION",
    "Assertions",
    "Citation",
    "DateMention",
    "Decision",
    "Determination",
    "Duration",
    "GuidelineBasis",
    "InputError",
    "Medication",
    "Mention",
    "Patient",
    "Reviewer",
    "Strength",
    "Treatment",
    "assert_spans",
    "load",
    "parse",
    "parse_file",
    "parse_many",
]

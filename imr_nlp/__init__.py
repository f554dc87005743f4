"""imr_nlp: California workers' compensation IMR final determination letters as structured data.

import imr_nlp
det = imr_nlp.parse(text)          # -> imr_nlp.Determination (pydantic)
det = imr_nlp.parse_file("letter.pdf")
t = imr_nlp.parse_request("Norco 10/325mg #120")   # one request -> imr_nlp.Treatment
nlp = imr_nlp.load()               # the spaCy pipeline; doc._.determination
df = imr_nlp.to_dataframe(imr_nlp.parse_many(paths), level="decision")   # pandas
imr_nlp.render(text)               # displaCy view (Jupyter, or HTML)
"""

from imr_nlp.api import DeterminationStream, assert_spans, load, parse, parse_file, parse_many, parse_request, reset
from imr_nlp.errors import InputError, MissingFileError, SpentResultsWarning, UnreadableFileError
from imr_nlp.frames import to_dataframe, to_parquet
from imr_nlp.html_report import report
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
    Reason,
    Reviewer,
    Strength,
    Treatment,
)
from imr_nlp.render import render
from imr_nlp.version import __version__ as __version__  # re-exported: imr_nlp.__version__

__all__ = [
    "SCHEMA_VERSION",
    "Assertions",
    "Citation",
    "DateMention",
    "Decision",
    "Determination",
    "DeterminationStream",
    "Duration",
    "GuidelineBasis",
    "InputError",
    "Medication",
    "Mention",
    "MissingFileError",
    "Patient",
    "Reason",
    "Reviewer",
    "SpentResultsWarning",
    "Strength",
    "Treatment",
    "UnreadableFileError",
    "assert_spans",
    "load",
    "parse",
    "parse_file",
    "parse_many",
    "parse_request",
    "render",
    "report",
    "reset",
    "to_dataframe",
    "to_parquet",
]

"""displaCy views of a parsed letter: decision items with their outcome, drugs, doses,
quantities, refills, services, diagnoses, dates and guideline citations, each labelled with
its ConText assertions ("DRUG negated", "DIAGNOSIS historical")."""

from __future__ import annotations

from pathlib import Path

from spacy import displacy
from spacy.tokens import Doc, Span
from spacy.util import is_in_jupyter

from imr_nlp.extensions import spans_of

RENDER_KEY = "imr_render"

# span group -> how its spans are labelled
_GROUPS = ("items", "drugs", "doses", "services", "diagnoses", "dates", "citations")
_ASSERTIONS = (
    ("is_negated", "negated"),
    ("is_historical", "historical"),
    ("is_hypothetical", "hypothetical"),
    ("is_uncertain", "uncertain"),
    ("is_family", "family"),
)
COLORS = {
    "UPHELD": "#f4a3a3",
    "OVERTURNED": "#9fd89f",
    "DRUG": "#9cc9f5",
    "STRENGTH": "#c7e2fb",
    "QUANTITY": "#c7e2fb",
    "REFILLS": "#c7e2fb",
    "FREQUENCY": "#c7e2fb",
    "DURATION": "#c7e2fb",
    "SERVICE": "#f7d59c",
    "DIAGNOSIS": "#d9b8f0",
    "DATE": "#e0e0e0",
    "CITATION": "#f5e87c",
}


def render_label(group: str, span: Span) -> str | None:
    """The displayed label of a span of ``group``, or None for spans not shown."""
    if group == "items":
        return span.label_.upper() if span.label_ in ("upheld", "overturned") else "ITEM"
    if group == "citations":
        if span.label_ != "CITATION":
            return None  # the guideline paragraph as a whole
        citation = span._.citation or {}
        return f"CITATION {citation.get('source', '')}".strip()
    label = span.label_
    if group == "dates" and span._.role and span._.role != "other":
        label = f"DATE {span._.role}"
    flags = [name for attr, name in _ASSERTIONS if span.has_extension(attr) and getattr(span._, attr)]
    return " ".join([label, *flags])


def _entity_label(ent: Span) -> str:
    """An entity's displayed label: its label, a date's role, its ConText flags."""
    label = ent.label_
    if label == "DATE" and ent._.role and ent._.role != "other":
        label = f"DATE {ent._.role}"
    flags = [name for attr, name in _ASSERTIONS if ent.has_extension(attr) and getattr(ent._, attr)]
    return " ".join([label, *flags])


def render_spans(doc: Doc) -> list[Span]:
    """The spans a view shows, labelled (see ``render_label``), in text order."""
    spans = []
    for group in _GROUPS:
        for span in spans_of(doc, group):
            label = render_label(group, span)
            if label:
                spans.append(Span(doc, span.start, span.end, label=label))
    return sorted(spans, key=lambda s: (s.start, -s.end))


def render(
    text_or_doc: str | Path | Doc, jupyter: bool | None = None, page: bool = False, style: str = "span"
) -> str | None:
    """Show a letter with displaCy: in Jupyter the view is displayed (and None returned);
    elsewhere the HTML is returned (``page=True`` for a whole HTML page). A str is the letter's
    text, parsed first; a ``pathlib.Path`` a letter file (.txt or .pdf), read and parsed; a Doc
    must come from the imr_nlp pipeline, and is not changed. A str that is a file's name
    ("letter.pdf", the path of a file) is a TypeError saying to pass ``pathlib.Path``: its
    view would be of the name, not of the letter.

    ``style="span"`` (the default) shows every span, overlaps included (an item and the drug in
    it), token by token; ``style="ent"`` shows ``doc.ents``, the mentions without overlaps,
    in the letter's own spacing and line breaks (the cleaned text). Labels carry the ConText
    flags and a date's role either way."""
    if style not in ("span", "ent"):
        raise ValueError(f"render style must be 'span' or 'ent', not {style!r}")
    if isinstance(text_or_doc, (str, Path)):
        from imr_nlp.api import load

        doc = load()(_letter_text(text_or_doc))
    elif isinstance(text_or_doc, Doc):
        doc = text_or_doc.copy()
    else:
        raise TypeError(
            f"render expects a letter's text (str), a letter file (pathlib.Path) or a spaCy Doc, "
            f"got {type(text_or_doc).__name__}"
        )
    if style == "ent":
        shown = [Span(doc, e.start, e.end, label=_entity_label(e)) for e in doc.ents]
        doc.ents = shown
    else:
        doc.spans[RENDER_KEY] = shown = render_spans(doc)
    colors = dict(COLORS)
    for label in {s.label_ for s in shown}:
        base = label.split()[0]
        if base in COLORS:
            colors[label] = COLORS[base]
    options = {"spans_key": RENDER_KEY, "colors": colors} if style == "span" else {"colors": colors}
    html = displacy.render(doc, style=style, options=options, jupyter=False, page=page)
    if jupyter or (jupyter is None and is_in_jupyter()):
        # spaCy 3.7's own Jupyter path imports IPython.core.display.display, gone in IPython 9.
        from IPython.display import HTML, display

        display(HTML(f'<span class="tex2jax_ignore">{html}</span>'))
        return None
    return html


def _letter_text(letter: str | Path) -> str:
    """The text to show: a file's as read (InputError when it cannot be), a str as it is unless it
    is a file's name (TypeError)."""
    from imr_nlp.batches import names_a_file
    from imr_nlp.io import read_letter_file

    if isinstance(letter, Path):
        return read_letter_file(letter).text
    if names_a_file(letter):
        name = letter.strip()
        raise TypeError(
            f"render was given a file name as text ({name!r}): pass a pathlib.Path to show that file, "
            f"imr_nlp.render(pathlib.Path({name!r})), or the letter's text"
        )
    return letter

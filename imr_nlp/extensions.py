"""Every Doc and Span extension imr_nlp uses, declared in one table and registered idempotently.

Extensions hold plain, serialisable values (str, int, float, bool, list, dict); pydantic objects
appear only at the API boundary, through the ``doc._.determination`` getter, which
``imr_nlp.assemble`` registers (this table imports nothing of the pipeline's).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from spacy.tokens import Doc, Span, Token


class Extension(NamedTuple):
    """One extension: its default, the type of its values and what it means."""

    default: Any
    type: str
    meaning: str


DOC_EXTENSIONS: dict[str, Extension] = {
    "source_text": Extension(
        None, "str", "the string given to the pipeline, before cleaning (lone surrogates as U+FFFD, cut to the budget)"
    ),
    "offset_map": Extension(None, "dict", "OffsetMap.to_dict(): cleaned-text offsets -> source offsets"),
    "header": Extension(None, "dict[str, str]", "header fields: case_number, date_assigned (ISO), ..."),
    "header_sources": Extension(
        None,
        "dict[str, str]",
        "imr_header: where each header field was read: header (its label) or statement (a sentence of the letter)",
    ),
    "reviewer": Extension(None, "dict", "specialties, licensure_states (lists), board_certified (bool | None)"),
    "patient": Extension(None, "dict", "age (int | None), sex (male | female | None)"),
    "imr_warnings": Extension(None, "list[str]", "what could not be parsed and why"),
    "layout": Extension(None, "str", "imr_layout: the layout the letter follows (2016, 2013-notice, ..., unknown)"),
    "layout_signals": Extension(None, "list[list]", "imr_layout: the signals found, [layout, start, end] each"),
    "layout_read_as_primary": Extension(
        None,
        "bool",
        "imr_layout: the decision rules were written for the letter's layout (the primary one, or an unknown one "
        "they are tried on as written)",
    ),
    "span_keys": Extension(
        None,
        "dict[str, str]",
        "the keys in doc.spans of the span groups a component's ``span_keys`` setting renamed: group -> key",
    ),
}

# Span extension values are keyed by character offsets, so each group gets its own names.
SPAN_EXTENSIONS: dict[str, Extension] = {
    "iso_date": Extension(None, "str", "imr_dates: the date in ISO form (YYYY-MM-DD)"),
    "role": Extension(
        None,
        "str",
        "imr_dates: injury, utilization_review, prescribed, report, assigned, decision, application_received or other",
    ),
    "header_value": Extension(
        None, "str | list[str] | bool | int", "imr_header: the field's value (ISO for dates, a list for names)"
    ),
    "dose": Extension(
        None,
        "dict",
        'imr_doses: {"value": number | {"value", "unit"} | code, "kind": which wording gave it, ...}',
    ),
    "body_site": Extension(None, "str", "imr_services: a body site's name, laterality included"),
    "generic": Extension(None, "str", "imr_drugs: the lower-case generic name(s)"),
    "drug_class": Extension(None, "str", "imr_drugs: the drug class"),
    "dwc_class": Extension(None, "str", "imr_drugs: the DWC Pharmaceuticals subcategory"),
    "drug_evidence": Extension(
        None,
        "dict",
        'imr_drugs: {"name": "drug table" | "drug lexicon" | "drug misspelling", "class": how its DWC class was known}',
    ),
    "long_form": Extension(None, "str", "imr_abbreviations: an abbreviation's expansion"),
    "icd10": Extension(None, "str", "imr_diagnoses: the ICD-10-CM code (in the CMS code set)"),
    "icd10_description": Extension(None, "str", "imr_diagnoses: that code's CMS description"),
    "icd10_by": Extension(
        None, "str", 'imr_diagnoses: how the words support the code: "every word" or "most words" (the back-off)'
    ),
    "request": Extension(
        None, "dict", 'imr_services: an item\'s request as the grammar read it {"service", "category", ...}'
    ),
    "treatment": Extension(
        None,
        "dict",
        "imr_services: an item's Treatment fields as decided from its request, drugs, doses and dates "
        '({"category", "drug": {"start", "end", "generic", ...} | None, "strength", "quantity", ...})',
    ),
    "decision": Extension(
        None,
        "dict",
        'imr_decisions: an item {"index", "partial", "medically_necessary", "start", "end"}; imr_conclusions: '
        'its "conclusion" (the rationale\'s) and "medically_necessary" (the outcome\'s meaning where read)',
    ),
    "reasons": Extension(
        None,
        "list",
        'imr_reasons: the reasons whose evidence the span is, each {"index", "code", "direction"} (the group has a '
        "span per reason, labelled with its code; a sentence stating two reasons gives two spans sharing this list, "
        "as spaCy keys span extensions by offsets)",
    ),
    "block_index": Extension(None, "int", "imr_decisions: the decision a block part or necessity statement is of"),
    "necessity_polarity": Extension(
        None, "str", "imr_decisions: a necessity statement's positive, negative or context"
    ),
    "citation": Extension(None, "dict", 'imr_citations: {"source", "mtus", "guideline", "topics", "pages", ...}'),
    "basis": Extension(None, "dict", 'imr_citations: a guideline paragraph\'s verdict {"mtus_based": bool | None}'),
    # ConText assertions, under the names medspaCy's ConText sets
    "is_negated": Extension(False, "bool", "imr_context: negated"),
    "is_historical": Extension(False, "bool", "imr_context: historical"),
    "is_hypothetical": Extension(False, "bool", "imr_context: hypothetical"),
    "is_uncertain": Extension(False, "bool", "imr_context: uncertain"),
    "is_family": Extension(False, "bool", "imr_context: about a family member"),
    "context_cues": Extension(
        None, "list[dict]", 'imr_context: the cues that set them [{"category", "cue", "direction"}]'
    ),
}

# Span groups the components write, in pipeline order: group -> its key in ``doc.spans``, unless
# the writing component's ``span_keys`` setting renames it (as SpanRuler's ``spans_key``); readers
# find a group with :func:`spans_of` / :func:`span_key`, which follow a renaming.
SPAN_GROUPS = {
    "sections": "imr_sections",
    "header": "imr_header",
    "items": "imr_items",
    "parts": "imr_block_parts",
    "necessity": "imr_necessity",
    "dates": "imr_dates",
    "drugs": "imr_drugs",
    "doses": "imr_doses",
    "services": "imr_services",
    "body_sites": "imr_body_sites",
    "diagnoses": "imr_diagnoses",
    "problems": "imr_problems",
    "citations": "imr_citations",
    "context_targets": "imr_context_targets",
    "reasons": "imr_reasons",
    "values": "imr_values",  # imr_portable: no spans; its attributes carry the extension values
}


# Where a doc's extension values travel when its user_data does not (a DocBin made without
# ``store_user_data=True``): the ``imr_portable`` component copies them into the attributes of an
# empty span group (its ``values`` group), which spaCy stores with the groups, and the getters
# below put them back.
CARRIED_VALUES = "imr_nlp.extension_values"
_RESTORED = "imr_nlp.values_restored"
# medspaCy's extension that imr_entities writes (an entity's first token's section), read
# through the same getter so that it comes back too
TOKEN_EXTENSIONS: dict[str, Extension] = {
    "section": Extension(None, "medspacy Section", "imr_entities: the section an entity's first token lies in"),
}


def carry_values(doc: Doc) -> None:
    """Copy the doc's extension values (``doc.user_data``'s ``("._.", name, start, end)`` entries)
    into the attributes of its ``values`` span group (written already, under its key), so that
    they are stored with the span groups. The values are shared, not copied: what is set later
    is not carried."""
    carried = [[key[1], key[2], key[3], value] for key, value in doc.user_data.items() if _is_extension_key(key)]
    doc.spans[span_key(doc, "values")].attrs[CARRIED_VALUES] = carried


def _is_extension_key(key) -> bool:
    return isinstance(key, tuple) and len(key) == 4 and key[0] == "._."


def restore_values(doc: Doc) -> bool:
    """Put back the extension values carried by the ``imr_values`` span group into
    ``doc.user_data``, once per doc and never over a value it holds; True when this call did.
    A doc read from a DocBin without user data has only the carried copy; any other doc has
    its values already, and the first call marks it so that later ones cost a lookup."""
    data = doc.user_data
    if _RESTORED in data:
        return False
    data[_RESTORED] = True
    # found by its attribute, not its key: a renamed key is recorded in a value it carries
    carried = next((g.attrs[CARRIED_VALUES] for g in doc.spans.values() if CARRIED_VALUES in g.attrs), None)
    if not carried:
        return False
    for name, start, end, value in carried:
        data.setdefault(("._.", name, start, end), value)
    return True


def _accessors(name: str, default, kind: str):
    """A getter and setter keeping a value where spaCy keeps an extension's default-valued one
    (``doc.user_data[("._.", name, start, end)]``: a doc's ``(None, None)``, a span's character
    offsets, a token's ``(idx, None)``), whose getter restores the carried values of a doc read
    without them before answering. One pair per kind, the key made inline (they are read
    tens of thousands of times a letter)."""

    def answer(doc: Doc, key: tuple):
        data = doc.user_data
        if key in data:
            return data[key]
        if restore_values(doc) and key in data:
            return data[key]
        return default

    if kind == "doc":

        def get(doc):
            return answer(doc, ("._.", name, None, None))

        def set_(doc, value) -> None:
            doc.user_data[("._.", name, None, None)] = value

    elif kind == "span":

        def get(span):
            key = ("._.", name, span.start_char, span.end_char)
            value = span.doc.user_data.get(key, _ABSENT)
            return answer(span.doc, key) if value is _ABSENT else value

        def set_(span, value) -> None:
            span.doc.user_data[("._.", name, span.start_char, span.end_char)] = value

    else:

        def get(token):
            return answer(token.doc, ("._.", name, token.idx, None))

        def set_(token, value) -> None:
            token.doc.user_data[("._.", name, token.idx, None)] = value

    get.imr_nlp = True
    return get, set_


_ABSENT = object()


def register_extensions() -> None:
    """Register every extension once; safe to call again. Each is read and written through
    :func:`_accessors` (the values stay where spaCy keeps them, so ``Doc.to_bytes`` and a DocBin
    with user data store them as before); one registered by another package under the same
    name (medspaCy's ConText flags and ``token._.section``, same meaning) is taken over."""
    for cls, table, kind in (
        (Doc, DOC_EXTENSIONS, "doc"),
        (Span, SPAN_EXTENSIONS, "span"),
        (Token, TOKEN_EXTENSIONS, "token"),
    ):
        for name, extension in table.items():
            getter = cls.get_extension(name)[2] if cls.has_extension(name) else None
            if not getattr(getter, "imr_nlp", False):
                get, set_ = _accessors(name, extension.default, kind)
                cls.set_extension(name, getter=get, setter=set_, force=True)


def span_key(doc: Doc, group: str) -> str:
    """The key in ``doc.spans`` under which the group was written (its default, or the name a
    component's ``span_keys`` setting gave it)."""
    renamed = doc._.span_keys
    if renamed and group in renamed:
        return renamed[group]
    return SPAN_GROUPS[group]


def spans_of(doc: Doc, group: str):
    """The spans of a group (an empty tuple when it was not written)."""
    return doc.spans.get(span_key(doc, group), ())


VALUES_MARK = "imr_nlp.values"


def set_spans(doc: Doc, group: str, spans, key: str | None = None) -> None:
    """Write a group's spans under ``key`` (its default when None), recording a renaming on the
    doc so that readers find it."""
    default = SPAN_GROUPS[group]
    key = key or default
    doc.spans[key] = spans
    # the spans' values live in doc.user_data: a DocBin without user data keeps this mark (span
    # group attributes travel with the groups) and loses the values, which the assembly then says
    doc.spans[key].attrs[VALUES_MARK] = "user_data"
    if key != default:
        doc._.span_keys = {**(doc._.span_keys or {}), group: key}


# Tables one component (or the tokenizer) makes from its rules and another reads: shared
# through the vocabulary's lookups (spaCy's home for tables components share, reached from any
# Doc as ``doc.vocab``), never through another component's object. name -> table name.
SHARED_TABLES = {
    "number_words": "imr_number_words",  # imr_doses: number words -> values ("six" -> 6)
    "line_starts": "imr_line_starts",  # the tokenizer: patterns of the layout's headings and labels
    "sentence_ends": "imr_sentence_ends",  # imr_sentences: {"stops": [...], "closers": [...]}
}


def share_table(vocab, name: str, value) -> None:
    """Publish a table under its name in ``SHARED_TABLES`` (replacing the previous one)."""
    table = SHARED_TABLES[name]
    if vocab.lookups.has_table(table):
        vocab.lookups.remove_table(table)
    vocab.lookups.add_table(table, {"value": value})


def shared_table(vocab, name: str):
    """A shared table's value, or None when no producer published it."""
    table = SHARED_TABLES[name]
    return vocab.lookups.get_table(table)["value"] if vocab.lookups.has_table(table) else None


def warn(doc: Doc, message: str) -> None:
    """Add a warning to the doc (kept in text order of discovery, without repeats)."""
    warnings = list(doc._.imr_warnings or [])
    if message not in warnings:
        warnings.append(message)
    doc._.imr_warnings = warnings


register_extensions()

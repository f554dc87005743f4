"""Builds the imr_nlp spaCy pipeline: our tokenizer (cleaning + scispaCy rules) and the imr_*
components, in the order each one's inputs require."""

from __future__ import annotations

import spacy
from spacy.language import Language

# Importing the component modules registers their factories (the spacy_factories entry points
# do the same for a saved pipeline loaded without importing imr_nlp).
from imr_nlp.components import (  # noqa: F401
    abbreviations,
    citations,
    conclusions,
    context,
    dates,
    decisions,
    diagnoses,
    doses,
    drugs,
    entities,
    header,
    layout,
    normalize,
    reasons,
    sections,
    sentences,
    services,
)
from imr_nlp.extensions import register_extensions
from imr_nlp.scoring import make_slot_scorer  # noqa: F401 - registers imr_nlp.scorer.v1

PIPELINE = (
    "imr_layout",  # which layout the letter follows (2016, 2013 notice, ...), from its headings
    "imr_sentences",  # sentence boundaries (ConText needs them)
    "imr_sections",  # medspaCy section rules: header, credentials, case summary, decisions
    "imr_dates",  # dates with roles
    "imr_header",  # header fields (their dates from imr_dates), reviewer credentials, patient
    "imr_decisions",  # decision blocks: item headers, outcomes, guideline and rationale parts
    "imr_conclusions",  # each rationale's conclusion (ConText on necessity statements), truncation
    "imr_drugs",  # drug mentions -> generic names and classes
    "imr_doses",  # strengths, quantities, refills, frequencies, durations
    "imr_services",  # services, procedures, equipment and body sites of the items
    "imr_diagnoses",  # diagnosis lists of the case summary
    "imr_abbreviations",  # scispaCy AbbreviationDetector: long forms of CRPS, ODG, UR ...
    "imr_citations",  # guideline citations of the two guideline parts
    "imr_context",  # medspaCy ConText assertions on drugs and diagnoses
    "imr_entities",  # doc.ents: the mentions without overlaps, by priority; their sections
    "imr_reasons",  # why each decision went the way it did: its rationale's findings (ConText on their cues)
)


def build(use_package_lexicon: bool = True, config: dict[str, dict] | None = None) -> Language:
    """A new imr_nlp pipeline (no model files needed: every rule ships in the package).

    ``config`` gives components settings by name, as ``nlp.add_pipe(name, config=...)`` takes
    them: ``{"imr_drugs": {"span_keys": {"drugs": "medications"}}}`` writes the drug mentions to
    ``doc.spans["medications"]``, and every reader follows."""
    register_extensions()
    config = config or {}
    if unknown := sorted(set(config) - set(PIPELINE)):
        raise ValueError(f"config names {', '.join(unknown)}, not components of {', '.join(PIPELINE)}")
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": "imr_nlp.tokenizer.v1"}}})
    for name in PIPELINE:
        settings = {"use_package_lexicon": use_package_lexicon} if name == "imr_drugs" else {}
        nlp.add_pipe(name, config={**settings, **config.get(name, {})})
    nlp.meta["name"] = "imr_pipeline"
    return nlp

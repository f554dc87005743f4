"""Small pipelines for component tests: spacy.blank("en"), imr_nlp's tokenizer, the named
components."""

import pytest
import spacy

import imr_nlp.pipeline  # noqa: F401  (registers the factories)
from imr_nlp.components.normalize import IMRTokenizer


def build_small_pipeline(*names: str, config: dict | None = None):
    nlp = spacy.blank("en")
    nlp.tokenizer = IMRTokenizer(nlp)
    for name in names:
        nlp.add_pipe(name, config=(config or {}).get(name, {}))
    return nlp


@pytest.fixture(scope="session")
def small_pipeline():
    """``small_pipeline("imr_sentences", "imr_context", config={"imr_context": {...}})``."""
    return build_small_pipeline

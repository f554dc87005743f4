"""spaCy pipeline components, one module each (imported by imr_nlp.pipeline to register them).

Importing any of them registers ``doc._.determination`` too, so that a saved pipeline loaded by
``spacy.load`` alone (its factories found through the ``spacy_factories`` entry points) gives it.
"""

from imr_nlp.deferred_imports import import_with_deferred

# medspaCy first, before any component imports it: QuickUMLS, which it imports, gets a stand-in
# for NLTK, which imr_nlp never uses (imr_nlp.deferred_imports)
import_with_deferred("medspacy")

from imr_nlp.assemble import register_determination  # noqa: E402

register_determination()

"""spaCy pipeline components, one module each (imported by imr_nlp.pipeline to register them).

Importing any of them registers ``doc._.determination`` too, so that a saved pipeline loaded by
``spacy.load`` alone (its factories found through the ``spacy_factories`` entry points) gives it.
"""

from imr_nlp.deferred_imports import defer_unused

defer_unused()  # before any component imports medspaCy (and with it QuickUMLS and NLTK)

from imr_nlp.assemble import register_determination  # noqa: E402

register_determination()

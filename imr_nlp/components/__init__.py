"""spaCy pipeline components, one module each (imported by imr_nlp.pipeline to register them)."""

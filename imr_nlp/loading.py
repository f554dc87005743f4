"""The pipelines a process parses with: built or loaded once, shared by threads under a lock,
renewed when their vocabulary outgrows its budget, warmed up before workers fork, and freed on
request. Beneath the API and the worker pool alike (neither imports the other for it)."""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path

from spacy.language import Language

from imr_nlp.collection import collection_paused

_LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked worker gets a lock of its own: one inherited while another thread of the parent
    held it (inside ``reset()`` or a renewal) would never be released in the child."""
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)
_NLP: dict[str, Language] = {}
_BASE_STRINGS: dict[str, int] = {}

# spaCy 3.7 keeps every distinct token text it ever sees (its StringStore and Vocab grow for the
# life of a pipeline; memory zones came with spaCy 3.8, which medspaCy does not allow). Once a
# pipeline has learnt this many new strings, the API builds a fresh one (about 0.4 s) and frees
# the old, so a process parsing letters for days stays within a bounded memory (measured: at
# most about 160 MB above the loaded pipeline, with letters full of never-seen words).
MAX_NEW_STRINGS = 200_000


def _build(key: str) -> Language:
    if not key:
        from imr_nlp.pipeline import build

        return build()
    import spacy

    return spacy.load(key)


def load(path: str | Path | None = None) -> Language:
    """The imr_nlp spaCy pipeline, built once per process (or loaded from ``path``, a folder
    written by ``nlp.to_disk``). Its docs carry ``doc._.determination``.

    The parse functions replace it with a fresh copy once its vocabulary has grown by
    ``MAX_NEW_STRINGS``; a pipeline you hold keeps working (it just keeps its memory)."""
    key = str(path) if path is not None else ""
    nlp = _NLP.get(key)  # loaded already: no lock needed to read it
    if nlp is not None:
        return nlp
    with _LOCK:
        if key not in _NLP:
            with collection_paused():
                _NLP[key] = _build(key)
            _BASE_STRINGS[key] = len(_NLP[key].vocab.strings)
        return _NLP[key]


# A few lines that make every lazily built table get built: the ICD-10-CM index (a diagnosis),
# the misspelt-drug index (a misspelling), the date tables.
_WARM_UP_TEXT = (
    "Date of Injury: 01/02/2015\nThe injured worker was diagnosed with lumbar radiculopathy and "
    "takes Klonipin and Norco 10/325mg #120.\n"
)


def warm_up() -> Language:
    """Load the pipeline and build the tables it builds on first use (about 10 s once per
    process): before forking workers, so they share them instead of each building its own."""
    nlp = load()
    nlp(_WARM_UP_TEXT)._.determination  # noqa: B018 - assembling builds the lazy tables too
    return nlp


def reset() -> None:
    """Forget the loaded pipelines and free their memory (the next call loads afresh): for a
    long-running service that wants its memory back between batches."""
    from imr_nlp.normalize.drugs import default_lexicon

    with _LOCK:
        _NLP.clear()
        _BASE_STRINGS.clear()
        default_lexicon.cache_clear()  # the drug-name index (the pipelines held it too)
        _free_memory()


def _free_memory() -> None:
    """Collect the pipelines' reference cycles, then hand freed heap pages back to the OS
    (glibc's malloc_trim; elsewhere the memory is reused by the process instead)."""
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def pipeline() -> Language:
    """The default pipeline for parsing, renewed when its vocabulary has outgrown the budget."""
    nlp = load()
    if len(nlp.vocab.strings) - _BASE_STRINGS.get("", 0) > MAX_NEW_STRINGS:
        with _LOCK:
            if _NLP.get("") is nlp:
                del nlp
                _NLP.pop("")  # should the build fail, the next load() builds again
                _free_memory()  # a pipeline is full of reference cycles: free the old one now
                _NLP[""] = _build("")
                _BASE_STRINGS[""] = len(_NLP[""].vocab.strings)
            nlp = _NLP[""]
    return nlp

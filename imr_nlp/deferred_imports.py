"""Modules our dependencies import but imr_nlp never uses, run only if something uses them.

medspaCy imports QuickUMLS for its optional UMLS matcher, and QuickUMLS imports NLTK at the top of
its module: 1.5-2 s of every start (the CLI's, ``imr_nlp.load``'s, each spawned worker's), for
NLTK's own imports (SciPy's statistics among them). imr_nlp never builds a QuickUMLS matcher. So,
before medspaCy is imported, NLTK is given a stand-in in ``sys.modules``: a module object that
imports the real NLTK the first time any of its attributes is read, and hands every attribute on
from then. Code that uses NLTK (QuickUMLS, or the user's) gets it as it would have; nobody else pays
for it. (The standard library's ``importlib.util.LazyLoader`` would be the usual tool, but on
Python 3.11 the ``import nltk`` statement itself reads the module's ``__spec__`` and so loads it.)

A module already imported is left as it is; ``IMR_NLP_DEFER_IMPORTS=0`` turns the deferral off.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

DEFERRED = ("nltk",)


class DeferredModule(types.ModuleType):
    """Stands in for a module until one of its attributes is read, then imports it and hands
    every attribute on to it."""

    def __init__(self, spec) -> None:
        super().__init__(spec.name)
        self.__spec__ = spec  # what the import system reads: a module set up, not one importing
        self.__loader__ = spec.loader

    def __getattr__(self, attribute: str):  # called only for attributes the stand-in lacks
        return getattr(_imported(self), attribute)

    def __dir__(self) -> list[str]:
        return dir(_imported(self))


def _imported(stand_in: DeferredModule) -> types.ModuleType:
    """The real module of a stand-in, imported on the first call (it then replaces the stand-in
    in ``sys.modules``)."""
    name = stand_in.__name__
    real = stand_in.__dict__.get("_imr_real_module")
    if real is None:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        real = importlib.import_module(name)
        stand_in.__dict__["_imr_real_module"] = real
    return real


def defer(name: str) -> bool:
    """Put a stand-in for ``name`` in ``sys.modules``; whether it was put (not when the module is
    imported already or not installed)."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None:
        return False
    sys.modules[name] = DeferredModule(spec)
    return True


def defer_unused() -> None:
    """Defer every module of ``DEFERRED``, unless ``IMR_NLP_DEFER_IMPORTS`` is "0"."""
    if os.environ.get("IMR_NLP_DEFER_IMPORTS", "1") == "0":
        return
    for name in DEFERRED:
        defer(name)

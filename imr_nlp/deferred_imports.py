"""Modules our dependencies import but imr_nlp never uses, run only if something uses them.

medspaCy imports QuickUMLS for its optional UMLS matcher, and QuickUMLS imports NLTK at the top of
its module: 1.5-2 s of every start (the CLI's, ``imr_nlp.load``'s, each spawned worker's), for
NLTK's own imports (SciPy's statistics among them). imr_nlp never builds a QuickUMLS matcher. So
medspaCy is imported while NLTK has a stand-in in ``sys.modules``: QuickUMLS's ``import nltk``
binds the stand-in, which imports the real NLTK the first time one of its attributes is read and
hands every attribute on to it. The stand-in leaves ``sys.modules`` as soon as medspaCy is
imported, so any other ``import nltk`` (the user's, of NLTK or of one of its submodules) is the
ordinary import. (The standard library's ``importlib.util.LazyLoader`` would not do: on Python
3.11 the ``import`` statement itself reads the module's ``__spec__`` and so loads it.)

Nothing is deferred when NLTK or medspaCy is imported already; ``IMR_NLP_DEFER_IMPORTS=0`` turns
the deferral off.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

DEFERRED = ("nltk",)


class DeferredModule(types.ModuleType):
    """Stands in for a module in the code that imported it while it was deferred: imports the
    real module when one of its attributes is first read and hands every attribute on to it."""

    def __init__(self, spec) -> None:
        super().__init__(spec.name)
        self.__spec__ = spec  # what the import system reads: a module set up, not one importing
        self.__loader__ = spec.loader

    def __getattr__(self, attribute: str):  # called only for attributes the stand-in lacks
        return getattr(self._imr_import_real(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._imr_import_real())

    def _imr_import_real(self) -> types.ModuleType:
        """The real module, imported (the ordinary way) on the first call."""
        real = self.__dict__.get("_imr_real_module")
        if real is None:
            if sys.modules.get(self.__name__) is self:  # still deferring (an import in progress)
                sys.modules.pop(self.__name__, None)
            real = importlib.import_module(self.__name__)
            self.__dict__["_imr_real_module"] = real
        return real


def import_with_deferred(module: str) -> types.ModuleType:
    """Import ``module`` while every module of ``DEFERRED`` that is not imported yet has a
    stand-in, then take the stand-ins out of ``sys.modules`` (the code that imported them keeps
    them). Without the deferral (``IMR_NLP_DEFER_IMPORTS=0``, or ``module`` imported already),
    the ordinary import."""
    if module in sys.modules or os.environ.get("IMR_NLP_DEFER_IMPORTS", "1") == "0":
        return importlib.import_module(module)
    stand_ins = {}
    for name in DEFERRED:
        spec = importlib.util.find_spec(name) if name not in sys.modules else None
        if spec is not None:
            stand_ins[name] = sys.modules[name] = DeferredModule(spec)
    try:
        return importlib.import_module(module)
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]

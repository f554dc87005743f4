"""Imported first by every benchmark script. Run as a script, a benchmark has this folder as
``sys.path[0]``, where ``profile.py`` would shadow the standard library's ``profile`` module
that cProfile (imported by spaCy) needs; this moves the folder to the end of the path, so the
standard library wins and the helpers here (``_corpus``) still import."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ours = [p for p in sys.path if Path(p or ".").resolve() == _HERE]
sys.path[:] = [p for p in sys.path if p not in _ours] + _ours

"""Imported first by every benchmark script. Run as a script, a benchmark has this folder as
``sys.path[0]``, where ``profile.py`` would shadow the standard library's ``profile`` module
that cProfile (imported by spaCy) needs; this drops the folder from the path."""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

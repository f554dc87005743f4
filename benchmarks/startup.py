"""Start-up: how long a cold process waits before its first letter is parsed.

Usage (from the project root, in the project's environment):

    python benchmarks/startup.py [--runs 3]

Each measure runs in a fresh Python process (nothing loaded, nothing cached in memory), three
ways: with the stored indexes (``imr_nlp.stored_indexes``: the ICD-10-CM index, the drug
lexicon's package names and the code set's words read from their files), with storing off
(``IMR_NLP_INDEX_DIR=off``: every index built from its package, as before the files existed),
and, first, once to write the files. The measures:

- ``cli``: ``imr-nlp parse`` of one bundled PDF to a JSON file, wall clock;
- ``load + first parse``: ``imr_nlp.load()`` and ``imr_nlp.parse`` of one bundled letter;
- ``worker ready``: a spawn-mode worker of ``parse_many`` (a fresh interpreter) that has loaded
  the pipeline and parsed a letter, timed from its start;
- ``import``: ``import imr_nlp`` alone, and ``import medspacy`` alone (medspaCy imports
  QuickUMLS, NLTK and SciPy's statistics: a floor no setting of ours changes).

The best of ``--runs`` runs is printed for each, in seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "imr_nlp" / "samples"

LOAD_AND_PARSE = """
import time
start = time.perf_counter()
import imr_nlp
text = imr_nlp.io.read_letter(imr_nlp.__path__[0] + "/samples/synthetic_letter.txt")
imr_nlp.load()
determination = imr_nlp.parse(text)
assert determination.decisions
print(time.perf_counter() - start)
"""

WORKER = """
import multiprocessing, time

def ready(started):
    import imr_nlp
    imr_nlp.parse("Decision rationale: Norco 10/325mg #120 for lumbar radiculopathy.")
    return time.time() - started

if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        print(pool.apply(ready, (time.time(),)))
"""

IMPORT = "import time; start = time.perf_counter(); import {module}; print(time.perf_counter() - start)"


def timed_python(code: str, env: dict[str, str]) -> float:
    """The seconds a fresh interpreter prints after running ``code`` (from a file: a spawned
    worker imports its function from the main module's file), with a bound on the wait."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "measure.py"
        script.write_text(code, encoding="utf-8")
        out = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, check=True, timeout=600
        )
    return float(out.stdout.strip().splitlines()[-1])


def timed_cli(env: dict[str, str]) -> float:
    """Wall clock of ``imr-nlp parse`` of one bundled PDF, from the process's start."""
    pdf = SAMPLES / "CM16-0232543.pdf"
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "imr_nlp.cli", "parse", str(pdf), "--out", str(Path(out) / "out.json")],
            env=env,
            capture_output=True,
            check=True,
            timeout=600,
        )
        return time.perf_counter() - start


def measures(env: dict[str, str], runs: int) -> dict[str, float]:
    return {
        "cli": min(timed_cli(env) for _ in range(runs)),
        "load + first parse": min(timed_python(LOAD_AND_PARSE, env) for _ in range(runs)),
        "worker ready": min(timed_python(WORKER, env) for _ in range(runs)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs of each measure (the best is kept)")
    ap.add_argument("--stored-only", action="store_true", help="skip the runs with storing off (a build every time)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        stored = {**os.environ, "IMR_NLP_INDEX_DIR": folder}
        off = {**os.environ, "IMR_NLP_INDEX_DIR": "off"}
        first = timed_python(LOAD_AND_PARSE, stored)  # writes the index files
        files = sorted(p.name.split("-")[0] for p in Path(folder).iterdir())
        size = sum(p.stat().st_size for p in Path(folder).iterdir()) / 1e6
        rows = {"stored indexes": measures(stored, args.runs)}
        if not args.stored_only:
            rows["storing off"] = measures(off, args.runs)
        imports = {
            module: min(timed_python(IMPORT.format(module=module), stored) for _ in range(args.runs))
            for module in ("imr_nlp", "medspacy")
        }

    print(f"index files written by the first run ({first:.1f} s): {', '.join(files)} ({size:.1f} MB)")
    names = list(next(iter(rows.values())))
    print(f"| seconds (best of {args.runs}) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for label, row in rows.items():
        print(f"| {label} | " + " | ".join(f"{row[name]:.2f}" for name in names) + " |")
    print("imports: " + ", ".join(f"{module} {seconds:.2f} s" for module, seconds in imports.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

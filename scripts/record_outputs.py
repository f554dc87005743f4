"""Record the fingerprint of every public PDF letter's output, which tests/test_golden.py checks.

Usage (from the project root, in the project's environment, with ../shared beside it):

    python scripts/record_outputs.py

Run it only after a change meant to alter the output (a better rule, a new field), and say in
the commit which letters changed and why: a speed-up or a refactoring must leave every
fingerprint as it was. Writes tests/data/pdf_outputs.json: {file name: sha256 of the letter's
Determination as JSON, its ``source`` path left out, as that depends on where the corpus is}.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PDFS = ROOT.parent / "shared" / "corpus" / "pdf"
RECORD = ROOT / "tests" / "data" / "pdf_outputs.json"


def fingerprints(folder: Path) -> dict[str, str]:
    """File name -> sha256 of the Determination's JSON (without ``source``), for every PDF."""
    import imr_nlp

    paths = sorted(folder.glob("*.pdf"))
    out = {}
    for path, determination in zip(paths, imr_nlp.parse_many(paths, n_process=1), strict=True):
        data = determination.model_dump_json(exclude={"source"})
        out[path.name] = hashlib.sha256(data.encode("utf-8")).hexdigest()
    return out


def main() -> int:
    if not PDFS.is_dir():
        print(f"no letters at {PDFS}", file=sys.stderr)
        return 1
    record = fingerprints(PDFS)
    previous = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {}
    changed = sorted(name for name in record if previous.get(name) != record[name])
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(record)} letters recorded; {len(changed)} changed: {', '.join(changed) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

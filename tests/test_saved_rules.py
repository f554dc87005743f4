"""A saved pipeline is the one source of its rules: editing any rule file of a saved pipeline
changes what that pipeline reads (one case per file), and the package's copy is not read
behind its back."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import spacy

import imr_nlp

ROOT = Path(__file__).resolve().parent.parent
DECISIONS = (
    "IMR ISSUES, DECISIONS AND RATIONALES\n{item}: Upheld\n"
    "Decision rationale: The request is not medically necessary.\n"
)
SUMMARY = "CLINICAL CASE SUMMARY\n{text}\n" + DECISIONS.format(item="Norco 10/325mg #60")


def _json(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        edit(data)
        path.write_text(json.dumps(data), encoding="utf-8")

    return apply


def _jsonl(edit: Callable[[list], None]) -> Callable[[Path], None]:
    def apply(path: Path) -> None:
        entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        edit(entries)
        path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")

    return apply


def _spans(group: str, read=lambda s: s.text):
    return lambda doc: [read(s) for s in doc.spans.get(group, [])]


def _items(read):
    return lambda doc: [read(s) for s in doc.spans.get("imr_items", [])]


def _requests(key: str):
    return lambda doc: [s._.request[key] for s in doc.spans.get("imr_services", []) if s.label_ == "SERVICE"]


def _swap_first_term_code(entries: list) -> None:
    entries[0]["code"], entries[0]["sides"] = entries[1]["code"], {}


# (rule file in the saved pipeline, edit, text, what is read from the doc)
CASES = {
    "imr_layout/letter_layouts.json": (
        _json(lambda d: d.update(min_signals=3)),  # two signals no longer make the layout
        "MEDICAL PROFESSIONAL REVIEW\nISSUE AT DISPUTE:\nMRI of the knee\n",
        lambda doc: doc._.layout,
    ),
    "tokenizer/layout.json": (
        _json(lambda d: d["line_starts"].append("Zebra note")),
        "The worker was seen\nZebra note: pain is worse.",
        lambda doc: "\nZebra note" in doc.text,
    ),
    "imr_sentences/sentences.json": (
        _json(lambda d: d["abbreviations"]["words"].remove("dr")),
        "He was seen by Dr. Smith today.",
        lambda doc: len(list(doc.sents)),
    ),
    "imr_sections/sections.json": (
        _json(
            lambda d: d["sections"].append(
                {
                    "section": "case_summary",
                    "literal": "WORKER STORY",
                    "examples": ["WORKER STORY\nA", "WORKER STORY\nB"],
                }
            )
        ),
        "WORKER STORY\nThe injured worker has pain.\n",
        _spans("imr_sections", lambda s: s.label_),
    ),
    "imr_header/header.json": (
        _json(
            lambda d: d["fields"].insert(
                0,
                {
                    "field": "case_number",
                    "kind": "text",
                    "scope": "header",
                    "pattern": "Claim\\s+No\\.\\s*(?P<v>\\S+)",
                    "examples": [{"text": "Claim No. A1", "value": "A1"}, {"text": "Claim No. B2", "value": "B2"}],
                },
            )
        ),
        "Claim No. ZX-99\nCase Number: CM16-0000001\n",
        lambda doc: doc._.header.get("case_number"),
    ),
    "imr_dates/dates.json": (
        _json(lambda d: d["months"].update({"zeptember": 9})),
        "He was seen on Zeptember 5, 2016 and on 10/01/2016.",
        _spans("imr_dates", lambda s: s._.iso_date),
    ),
    "imr_decisions/decisions.json": (
        _json(lambda d: d["outcomes"].append({**d["outcomes"][-1], "wording": "Sustained"})),
        DECISIONS.format(item="MRI of the knee").replace("Upheld", "Sustained"),
        _items(lambda s: s.label_),
    ),
    "imr_conclusions/conclusions.json": (
        _json(lambda d: d.update(context_rules=[])),
        DECISIONS.format(item="MRI of the knee"),
        _items(lambda s: s._.decision["conclusion"]),
    ),
    "imr_drugs/drugs.json": (
        _json(
            lambda d: d["drugs"].append(
                {
                    "names": ["Zorblax"],
                    "generic": "zorbaxamine",
                    "drug_class": "opioid",
                    "examples": ["Zorblax 10mg #60", "Zorblax 5 mg twice daily"],
                }
            )
        ),
        "CLINICAL CASE SUMMARY\nThe current medications are Zorblax.",
        _spans("imr_drugs", lambda s: s._.generic),
    ),
    "imr_drugs/brand_names.json": (
        _json(lambda d: d["names"].update(zorblaxin="cephalexin")),
        "CLINICAL CASE SUMMARY\nThe current medications are Zorblaxin.",
        _spans("imr_drugs", lambda s: s._.generic),
    ),
    "imr_doses/doses.json": (
        _json(lambda d: d["count_nouns"].append("zorbs")),
        DECISIONS.format(item="Massage therapy 6 zorbs"),
        _spans("imr_doses", lambda s: (s.label_, s.text)),
    ),
    "imr_services/request_grammar.json": (
        _json(lambda d: d["default_category"].update(category="equipment")),
        DECISIONS.format(item="Zorkle"),
        _requests("category"),
    ),
    "imr_services/procedure_terms.json": (
        _json(lambda d: d["terms"].update(zorkle="0")),
        DECISIONS.format(item="Zorkle"),
        _requests("category"),
    ),
    "imr_services/service_names.jsonl": (
        _jsonl(
            lambda e: e.append(
                {"name": "quux scan", "patterns": [[{"LOWER": "quux"}]], "examples": ["Quux of the knee", "Quux"]}
            )
        ),
        DECISIONS.format(item="Quux of the knee"),
        _requests("service"),
    ),
    "imr_services/dwc_rules.jsonl": (
        _jsonl(lambda e: [rule.update(dwc_category="Transportation") for rule in e]),  # a taxonomy name
        DECISIONS.format(item="MRI of the knee"),
        _requests("dwc_category"),
    ),
    "imr_services/body_sites.json": (
        _json(lambda d: d["sites"].append({**d["sites"][0], "name": "zonk", "patterns": ["\\bzonk\\b"]})),
        DECISIONS.format(item="MRI of the left zonk"),
        _spans("imr_body_sites", lambda s: s.label_),
    ),
    "imr_diagnoses/diagnoses.json": (
        _json(lambda d: d["drop_words"]["words"].extend(["lumbar strain", "knee sprain"])),
        SUMMARY.format(text="The injured worker was diagnosed with lumbar strain and knee sprain."),
        _spans("imr_diagnoses"),
    ),
    "imr_diagnoses/icd10.json": (
        _json(lambda d: d["excluded_chapters"].append("S")),
        SUMMARY.format(text="The injured worker was diagnosed with lumbar strain and knee sprain."),
        _spans("imr_diagnoses", lambda s: s._.icd10),
    ),
    "imr_diagnoses/icd10_terms.jsonl": (
        _jsonl(_swap_first_term_code),
        SUMMARY.format(text="The injured worker was diagnosed with hip dysplasia."),
        _spans("imr_diagnoses", lambda s: s._.icd10),
    ),
    "imr_citations/guidelines.json": (
        _json(lambda d: d.update(odg_names=["Zeta Disability Guidelines"])),
        DECISIONS.format(item="MRI of the knee").replace(
            "Decision rationale", "MAXIMUS guideline: Decision based on ODG Knee chapter.\nDecision rationale"
        ),
        lambda doc: [s._.citation["source"] for s in doc.spans.get("imr_citations", []) if s.label_ == "CITATION"],
    ),
    "imr_entities/entities.json": (
        _json(lambda d: d["groups"].pop(0)),  # no drug entities
        "CLINICAL CASE SUMMARY\nThe patient takes Norco 10/325 mg at night.",
        lambda doc: [(e.text, e.label_) for e in doc.ents],
    ),
    "imr_reasons/reasons.json": (
        _json(
            lambda d: d["cues"].append(
                {
                    "name": "zorbly",
                    "code": "risk",
                    "affirmed": "against",
                    "pattern": "\\bzorbly\\b",
                    "examples": [
                        {"text": "The patient is zorbly.", "reasons": [["risk", "against"]]},
                        {"text": "She was zorbly last year.", "reasons": [["risk", "against"]]},
                    ],
                }
            )
        ),
        DECISIONS.format(item="MRI of the knee").replace("The request", "The patient is zorbly. The request"),
        _spans("imr_reasons", lambda s: s.label_),
    ),
    "imr_context/context_rules.json": (
        _json(
            lambda d: d["context_rules"].append(
                {
                    "literal": "zilch",
                    "category": "NEGATED_EXISTENCE",
                    "direction": "FORWARD",
                    "examples": [
                        {"text": "He takes zilch Norco.", "target": "Norco", "negated": True},
                        {"text": "She has zilch nausea.", "target": "nausea", "negated": True},
                    ],
                }
            )
        ),
        "CLINICAL CASE SUMMARY\nThe patient takes zilch Norco at night.",
        _spans("imr_drugs", lambda s: s._.is_negated),
    ),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("saved") / "imr_pipeline"
    imr_nlp.load().to_disk(path)
    return path


@pytest.fixture(scope="module")
def original(saved):
    return spacy.load(saved)


def test_every_rule_file_of_a_saved_pipeline_has_a_case(saved):
    files = {
        str(p.relative_to(saved))
        for p in saved.rglob("*")
        if p.suffix in (".json", ".jsonl") and p.parent != saved and p.parent.name != "vocab"
    }
    assert files == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_editing_a_saved_rule_file_changes_that_pipelines_output(tmp_path, saved, original, name):
    edit, text, read = CASES[name]
    copy = tmp_path / "edited"
    shutil.copytree(saved, copy)
    edit(copy / name)
    edited = spacy.load(copy)
    before, after = original(text), edited(text)
    assert read(before) != read(after), (read(before), read(after))
    # the package's own pipeline is untouched by the edit
    assert read(imr_nlp.load()(text)) == read(before)


TAMPERED = {
    "a header wording": (
        "imr_header/header.json",
        lambda r: r["fields"][0].update(pattern=r"Case:\s*(?P<v>(?:\w+\s?)*)!"),
    ),
    "a citation table joined into a regex": (
        "imr_citations/guidelines.json",
        lambda r: r["not_mtus"].append(r"(?:x+)+y"),
    ),
    "a date role's context": ("imr_dates/dates.json", lambda r: r["roles"][0].update(before=r"(?:\s*){10}x")),
}


@pytest.mark.parametrize("where", sorted(TAMPERED))
def test_a_saved_rule_file_with_a_catastrophic_regex_is_refused_at_load(tmp_path, saved, where):
    """A tampered rule file whose regex can backtrack without bound (one hung a letter for over
    a minute) is refused when the pipeline loads, naming the pattern."""
    name, tamper = TAMPERED[where]
    copy = tmp_path / "tampered"
    shutil.copytree(saved, copy)
    _json(tamper)(copy / name)
    with pytest.raises(ValueError, match="catastrophic backtracking"):
        spacy.load(copy)


@pytest.mark.parametrize(
    "pattern, refused",
    [
        (r"(a+)+b", True),
        (r"(?:\w+\s?)*!", True),
        (r"(?:x\s*){0,50}y", True),  # a bounded but long outer repeat
        (r"(?:\s*\w+)+$", True),
        (r"(?:a(?!b)c*)+", True),
        (r"(?:\s*){10}x", True),  # a short outer repeat over an unbounded inner one
        (r"(?:(?:(?:a{0,10}){0,10}){0,10}){0,10}b", True),  # bounded, but 10,000 ways to split
        (r"\s*\s*\s*\s*x", True),  # four unbounded repeats side by side
        (r"(x)?(?(1)|(?!(?:\w+)+:))", True),  # inside a conditional group
        (r"(?:\S\S?)*#", True),  # a part of varying length repeated without bound
        (r"C.*N.*N.*N.*N.*#", True),  # many unbounded repeats of any character in one sequence
        (r"Case\s+Number\s*:\s*(?P<v>\S+)", False),  # repeats separated by required text
        (r"\s*,?\s*", False),
        (r"(?:\d{1,2}/){2}\d{4}", False),  # inner and outer bounded
        (r"(?:ab|cd)*", False),  # one level of repeat
        (r"(?:(?:a|the)\s++)*word", False),  # possessive inner repeat: never gives back
        (r"(?>\w+\s?)*!", False),  # atomic group
        (r"^(?:[^.]|\.\d)*\bwas", False),
    ],
)
def test_rule_regexes_may_not_nest_unbounded_repeats(pattern, refused):
    from imr_nlp.resources import _check_regex

    if refused:
        with pytest.raises(ValueError, match="catastrophic backtracking"):
            _check_regex(pattern)
    else:
        assert _check_regex(pattern) == pattern


def test_a_saved_pipeline_missing_a_rule_file_is_an_error_not_the_package_copy(tmp_path, saved):
    copy = tmp_path / "incomplete"
    shutil.copytree(saved, copy)
    (copy / "imr_header" / "header.json").unlink()
    with pytest.raises(ValueError, match="has no rule file .*header.json"):
        spacy.load(copy)


@pytest.mark.parametrize("name", ["imr_drugs/brand_names.json", "imr_header/header.json", "imr_dates/dates.json"])
def test_an_edited_rule_survives_a_round_trip_through_bytes(tmp_path, saved, original, name):
    """nlp.to_bytes/from_bytes carry every component's rules: a fresh pipeline given the bytes
    of an edited one reads as the edited one does, not as the package's rules would."""
    edit, text, read = CASES[name]
    copy = tmp_path / "edited"
    shutil.copytree(saved, copy)
    edit(copy / name)
    edited = spacy.load(copy)
    restored = imr_nlp.pipeline.build().from_bytes(edited.to_bytes())
    assert read(restored(text)) == read(edited(text)) != read(original(text))


def test_rules_excluded_from_bytes_cannot_be_loaded_as_if_they_were_there(original):
    drugs = original.get_pipe("imr_drugs")
    with pytest.raises(ValueError, match="has no rule file"):
        imr_nlp.pipeline.build().get_pipe("imr_drugs").from_bytes(drugs.to_bytes(exclude=["rules"]))


def _project() -> dict:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


SAVED_META = ROOT / "models" / "imr_pipeline" / "meta.json"


@pytest.mark.parametrize(
    "field, check",
    [
        ("name", lambda value, project: value == "imr_pipeline"),
        ("version", lambda value, project: value == project["version"] == imr_nlp.__version__),
        ("description", lambda value, project: project["description"] in value and project["name"] in value),
        ("license", lambda value, project: value == project["license"]["text"]),
        ("requirements", lambda value, project: value == [f"{project['name']}=={project['version']}"]),
        (
            "sources",
            lambda value, project: (
                len(value) >= 5
                and all(
                    source["name"] and source["url"].startswith("https://") and source["license"] for source in value
                )
            ),
        ),
    ],
)
def test_the_saved_pipelines_meta_names_its_package_version_description_licence_and_sources(field, check):
    """meta.json (what spacy.load gives as nlp.meta, and what spacy package reads) says what the
    pipeline is, from the package's own pyproject, and is what build() writes today."""
    saved = json.loads(SAVED_META.read_text(encoding="utf-8"))
    assert check(saved[field], _project()), saved[field]
    from imr_nlp.pipeline import pipeline_meta

    assert saved[field] == pipeline_meta()[field]

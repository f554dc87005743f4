"""Rules added and replaced through the public API (``add_rules``, ``initialize``), the way
SpanRuler takes ``add_patterns`` and ``initialize(patterns=...)``: validated whole before
anything changes, never touching the package's own copy."""

from __future__ import annotations

import pydantic
import pytest

from imr_nlp import resources

QUUX = {"name": "quux scan", "patterns": [[{"LOWER": "quux"}]], "examples": ["Quux of the knee", "Quux"]}


@pytest.fixture()
def services(small_pipeline):
    return small_pipeline("imr_doses", "imr_services").get_pipe("imr_services")


def test_add_rules_adds_entries_to_a_jsonl_rule_file(services):
    before = len(resources.load("service_names.jsonl").entries)
    assert services.read("Quux of the knee")["service"] != "quux scan"
    services.add_rules("service_names.jsonl", [QUUX])
    assert services.read("Quux of the knee")["service"] == "quux scan"
    assert len(resources.load("service_names.jsonl").entries) == before  # the package's copy


def test_add_rules_adds_to_a_named_list_of_a_json_rule_file(small_pipeline):
    drugs = small_pipeline("imr_drugs").get_pipe("imr_drugs")
    fields = [k for k, v in resources.to_data("drugs.json", drugs.rules["drugs.json"]).items() if isinstance(v, list)]
    with pytest.raises(ValueError, match="takes entries in one of its lists"):
        drugs.add_rules("drugs.json", [{}], field="no such list")
    assert fields  # the error names them


def test_a_bad_entry_changes_nothing(services):
    rules = services.rules["service_names.jsonl"]
    with pytest.raises(pydantic.ValidationError):
        services.add_rules("service_names.jsonl", [{**QUUX, "examples": ["only one"]}])
    assert services.rules["service_names.jsonl"] is rules


def test_initialize_replaces_whole_rule_files_and_keeps_the_others(services):
    names = resources.to_data("service_names.jsonl", services.rules["service_names.jsonl"])
    sites = services.rules["body_sites.json"]
    services.initialize(rules={"service_names.jsonl": [*names, QUUX]})
    assert services.read("Quux of the knee")["service"] == "quux scan"
    assert services.rules["body_sites.json"] == sites
    services.initialize()  # no rules: nothing changes
    assert services.read("Quux of the knee")["service"] == "quux scan"


@pytest.mark.parametrize("call", ["add_rules", "initialize"])
def test_an_unknown_rule_file_is_refused_naming_the_files(services, call):
    with pytest.raises(ValueError, match=r"no rule file drugs.json \(its files: request_grammar.json"):
        if call == "add_rules":
            services.add_rules("drugs.json", [QUUX])
        else:
            services.initialize(rules={"drugs.json": {}})


def test_nlp_initialize_passes_rules_from_its_settings(small_pipeline):
    nlp = small_pipeline("imr_doses", "imr_services")
    names = resources.to_data("service_names.jsonl", nlp.get_pipe("imr_services").rules["service_names.jsonl"])
    nlp.config["initialize"]["components"]["imr_services"] = {"rules": {"service_names.jsonl": [*names, QUUX]}}
    nlp.initialize()
    assert nlp.get_pipe("imr_services").read("Quux of the knee")["service"] == "quux scan"
    assert nlp.get_pipe("imr_doses").rules["doses.json"] == resources.load("doses.json")

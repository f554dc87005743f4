"""The DWC's Request Categories: one list, the taxonomy's, that the rules name categories by."""

import re
import typing
from pathlib import Path

import pydantic
import pytest

from imr_nlp import resources
from imr_nlp.models import DwcCategory

TAXONOMY = Path(__file__).resolve().parents[2] / "shared" / "spec" / "dwc-taxonomy.md"


@pytest.mark.skipif(not TAXONOMY.exists(), reason="../shared/spec not beside the checkout")
def test_the_categories_are_the_taxonomys():
    rows = re.findall(r"^\| ([A-Z][^|]*?) \| [^|]+ \|$", TAXONOMY.read_text(encoding="utf-8"), re.M)
    assert set(typing.get_args(DwcCategory)) == set(rows) - {"Request Category"}


@pytest.mark.parametrize(
    "name, edit, misspelt",
    [
        ("reasons.json", lambda r: r["item_categories"]["codes"].update(monitoring=["Pharmacy"]), "Pharmacy"),
        ("reasons.json", lambda r: r["cues"][0].update(item_categories=["Rehab"]), "Rehab"),
        ("dwc_rules.jsonl", lambda r: r[0].update(dwc_category="Surgeries"), "Surgeries"),
    ],
)
def test_a_misspelt_category_in_the_rules_is_refused(name, edit, misspelt):
    """A category the taxonomy lacks would match no item and silently switch a rule off."""
    rules = resources.to_data(name, resources.load(name))
    resources.validate(name, rules)  # as shipped: valid
    edit(rules)
    with pytest.raises(pydantic.ValidationError, match=f"input_value='{misspelt}'"):
        resources.validate(name, rules)


def test_the_shipped_rules_name_every_category_as_the_taxonomy_does():
    reasons = resources.load("reasons.json")
    named = {c for cats in reasons.item_categories.codes.values() for c in cats}
    named |= {c for cue in reasons.cues for c in cue.item_categories or ()}
    named |= {rule.dwc_category for rule in resources.load("dwc_rules.jsonl").entries}
    assert named and named <= set(typing.get_args(DwcCategory))

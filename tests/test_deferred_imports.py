"""NLTK, which medspaCy's QuickUMLS imports and imr_nlp never uses, is not run by loading the
pipeline, yet works for QuickUMLS and for whoever imports it, in one copy; the deferral can be
turned off. Each case runs in a fresh interpreter: imports are per process."""

import os
import subprocess
import sys

import pytest

LOAD = "import sys, imr_nlp\nimr_nlp.load()\nimr_nlp.parse('Decision rationale: Norco 10/325mg #120.')\n"


def run(code: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_loading_the_pipeline_does_not_run_nltk():
    code = LOAD + "import quickumls.core\nprint('nltk' in sys.modules, type(quickumls.core.nltk).__name__)"
    assert run(code) == ["False", "DeferredModule"]


@pytest.mark.parametrize(
    "first_use",
    [
        "import nltk",
        "from nltk.tokenize import wordpunct_tokenize",
        "import nltk.tokenize",
        "import quickumls.core as q\nq.nltk.tokenize",
    ],
)
def test_nltk_works_in_one_copy_however_it_is_first_used(first_use):
    code = (
        LOAD
        + first_use
        + "\n"
        + (
            "import nltk, nltk.tokenize, quickumls.core\n"
            "print(nltk.tokenize.wordpunct_tokenize('a b.') == ['a', 'b', '.'], "
            "nltk.wordpunct_tokenize is sys.modules['nltk.tokenize'].wordpunct_tokenize, "
            "quickumls.core.nltk.tokenize is sys.modules['nltk.tokenize'], type(sys.modules['nltk']).__name__)\n"
        )
    )
    assert run(code) == ["True", "True", "True", "module"]


def test_the_deferral_can_be_turned_off():
    code = LOAD + "import quickumls.core\nprint('nltk.metrics' in sys.modules, type(quickumls.core.nltk).__name__)"
    assert run(code, IMR_NLP_DEFER_IMPORTS="0") == ["True", "module"]


def test_nltk_imported_before_is_left_alone():
    code = "import sys, nltk\n" + LOAD + "import quickumls.core\nprint(quickumls.core.nltk is nltk)"
    assert run(code) == ["True"]

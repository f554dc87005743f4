"""NLTK, which medspaCy's QuickUMLS imports and imr_nlp never uses, is not run by loading the
pipeline, yet works for whoever uses it; the deferral can be turned off and leaves an imported
module alone. Each case runs in a fresh interpreter: imports are per process."""

import os
import subprocess
import sys

import pytest

from imr_nlp import deferred_imports

LOAD = "import sys, imr_nlp\nimr_nlp.load()\nimr_nlp.parse('Decision rationale: Norco 10/325mg #120.')\n"


def run(code: str, **env: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_loading_the_pipeline_does_not_run_nltk():
    assert run(LOAD + "print('nltk.metrics' in sys.modules, type(sys.modules['nltk']).__name__)") == [
        "False",
        "DeferredModule",
    ]


def test_nltk_works_for_whoever_uses_it():
    code = LOAD + (
        "import nltk\n"
        "from nltk.tokenize import wordpunct_tokenize\n"
        "import quickumls.core\n"
        "print(bool(nltk.__version__), wordpunct_tokenize('a b.') == ['a', 'b', '.'], "
        "quickumls.core.nltk.tokenize is sys.modules['nltk.tokenize'], 'nltk.metrics' in sys.modules)\n"
    )
    assert run(code) == ["True", "True", "True", "True"]


def test_the_deferral_can_be_turned_off():
    code = LOAD + "print('nltk.metrics' in sys.modules, type(sys.modules['nltk']).__name__)"
    assert run(code, IMR_NLP_DEFER_IMPORTS="0") == ["True", "module"]


@pytest.mark.parametrize("name", ["json", "a_module_that_is_not_installed"])
def test_an_imported_or_missing_module_is_left_alone(name):
    before = sys.modules.get(name)
    assert deferred_imports.defer(name) is False
    assert sys.modules.get(name) is before

"""The generated docs pages match the code, and the docs name every public function."""

import subprocess
import sys
from pathlib import Path

import pytest

import imr_nlp
from imr_nlp.rows import LEVELS, ROWS

ROOT = Path(__file__).resolve().parent.parent


def test_generated_pages_are_up_to_date():
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "scripts" / "build_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_every_public_name_is_documented():
    docs = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").rglob("*.md"))
    docs += (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in imr_nlp.__all__ if name not in docs]
    assert not missing


def test_mkdocs_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert [p for p in pages if p not in nav] == []


def test_tests_named_in_the_docs_exist():
    import re

    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    defined = set(re.findall(r"^def (test_\w+)", tests, re.M))
    page = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![/\w])(test_\w+)\b(?!\.py)", page))
    assert named and not named - defined


def test_api_page_docstrings_have_no_raw_sphinx_roles():
    """mkdocstrings renders ``code`` but prints Sphinx roles (:func:`x`) as they are: the members
    docs/api.md lists must not use them."""
    import importlib
    import re

    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    checked = 0
    for block in re.split(r"^::: ", page, flags=re.M)[1:]:
        module = importlib.import_module(block.split()[0])
        members = re.findall(r"^\s+- (\w+)$", block, flags=re.M) or [block.split()[0]]
        for name in members:
            obj = getattr(module, name, module)
            docs = (
                [obj.__doc__ or ""] + [getattr(v, "__doc__", "") or "" for v in vars(obj).values()]
                if isinstance(obj, type)
                else [obj.__doc__ or ""]
            )
            for doc in docs:
                assert not re.search(r":(?:func|class|meth|mod|attr):`", doc), f"{module.__name__}.{name}"
            checked += 1
    assert checked > 10


def test_the_contract_page_has_a_section_for_every_model_a_determination_holds():
    from pydantic import BaseModel

    def held(model, seen):
        for field in model.model_fields.values():
            stack = [field.annotation]
            while stack:
                annotation = stack.pop()
                if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                    if annotation not in seen:
                        seen.append(annotation)
                        held(annotation, seen)
                else:
                    stack.extend(getattr(annotation, "__args__", ()))
        return seen

    page = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
    missing = [m.__name__ for m in held(imr_nlp.Determination, []) if f"\n## {m.__name__}\n" not in page]
    assert not missing


def _api_members() -> set[str]:
    """The names docs/api.md documents, as ``module.name``."""
    import re

    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    members = set()
    for block in re.split(r"^::: ", page, flags=re.M)[1:]:
        module = block.split()[0]
        members.update(f"{module}.{name}" for name in re.findall(r"^\s+- (\w+)$", block, flags=re.M))
    return members


def _exported_api() -> list[tuple[str, object]]:
    """Every function and class imr_nlp exports but the models (the contract page has those)."""
    import inspect

    from pydantic import BaseModel

    return [
        (name, value)
        for name in imr_nlp.__all__
        if callable(value := getattr(imr_nlp, name)) and not (inspect.isclass(value) and issubclass(value, BaseModel))
    ]


@pytest.mark.parametrize("name, value", _exported_api(), ids=lambda x: x if isinstance(x, str) else "")
def test_the_api_reference_documents_every_exported_function_and_class(name, value):
    """Each is a member of a ``:::`` block of docs/api.md, under the module it comes from or the
    one that exports it to the API (imr_nlp.api re-exports load and reset)."""
    import inspect

    members = _api_members()
    homes = {value.__module__, "imr_nlp.api"} if inspect.isfunction(value) else {value.__module__}
    assert any(f"{home}.{name}" in members for home in homes), name


@pytest.mark.parametrize("level", LEVELS)
def test_the_api_reference_documents_each_rows_function(level):
    assert f"imr_nlp.rows.{ROWS[level].__name__}" in _api_members()

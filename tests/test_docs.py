"""The generated docs pages match the code, and the docs name every public function."""

import subprocess
import sys
from pathlib import Path

import imr_nlp

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

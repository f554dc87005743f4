"""Indexes derived from lexicons and code sets are stored once and read back the same; a changed
input is a new index; a damaged file or a folder that cannot be written costs a build, never a
failure."""

import os
import stat

import pytest

from imr_nlp import stored_indexes
from imr_nlp.normalize import drugs, icd10


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("IMR_NLP_INDEX_DIR", str(tmp_path / "indexes"))
    return tmp_path / "indexes"


def counted_build(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def store(inputs, build):
    return stored_indexes.stored("example", inputs, build, sorted, frozenset)


def test_built_once_then_read(folder):
    build, calls = counted_build(frozenset({"b", "a"}))
    assert store("v1", build) == {"a", "b"}
    assert store("v1", build) == {"a", "b"}
    assert len(calls) == 1
    (path,) = folder.iterdir()
    assert path.name.startswith("example-") and path.suffix == ".msgpack"


def test_other_inputs_are_another_index(folder):
    build, calls = counted_build(frozenset({"a"}))
    store("v1", build)
    store("v2", build)
    assert len(calls) == 2
    assert len(list(folder.iterdir())) == 2


def test_old_files_of_an_index_are_pruned(folder):
    for version in range(stored_indexes.KEPT_PER_INDEX + 2):
        store(f"v{version}", counted_build(frozenset({"a"}))[0])
    assert len(list(folder.glob("example-*.msgpack"))) == stored_indexes.KEPT_PER_INDEX


def test_a_changed_builder_is_another_index():
    one = stored_indexes.index_key("example", "v1", (), ("imr_nlp.normalize.drugs",))
    other = stored_indexes.index_key("example", "v1", (), ("imr_nlp.normalize.icd10",))
    assert one != other
    assert one == stored_indexes.index_key("example", "v1", (), ("imr_nlp.normalize.drugs",))


@pytest.mark.parametrize("damage", [b"", b"\xc1not msgpack", b"\x93\x01\x02"])
def test_a_damaged_file_is_rebuilt_and_replaced(folder, damage):
    build, calls = counted_build(frozenset({"a"}))
    store("v1", build)
    (path,) = folder.iterdir()
    path.write_bytes(damage)
    assert store("v1", build) == {"a"}
    assert store("v1", build) == {"a"}
    assert len(calls) == 2


def test_maps_are_read_plain_whatever_hooks_are_registered(folder):
    """medspaCy registers a msgpack hook that takes any map with a "section" key for its
    Section: an index whose words include "section" must come back as written."""
    import medspacy  # noqa: F401 - registers its hooks

    value = {"section": [1, 2], "rule": {"section": "x"}}
    first = stored_indexes.stored("maps", "v1", lambda: value, dict, dict)
    again = stored_indexes.stored("maps", "v1", lambda: {}, dict, dict)
    assert first == again == value


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_folder_that_cannot_be_written_costs_a_build(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("IMR_NLP_INDEX_DIR", str(locked / "indexes"))
    build, calls = counted_build(frozenset({"a"}))
    assert store("v1", build) == store("v1", build) == {"a"}
    assert len(calls) == 2


def test_a_file_in_place_of_the_folder_costs_a_build(tmp_path, monkeypatch):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IMR_NLP_INDEX_DIR", str(blocker / "indexes"))
    build, calls = counted_build(frozenset({"a"}))
    assert store("v1", build) == store("v1", build) == {"a"}
    assert len(calls) == 2


def test_off_stores_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("IMR_NLP_INDEX_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build, calls = counted_build(frozenset({"a"}))
    store("v1", build)
    store("v1", build)
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def test_the_file_gets_the_umask_mode(folder):
    old = os.umask(0o027)
    try:
        store("v1", counted_build(frozenset({"a"}))[0])
    finally:
        os.umask(old)
    (path,) = folder.iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_the_code_index_reads_back_as_built():
    """The ICD-10-CM index of the pipeline's tables, encoded and decoded, is the same index."""
    import imr_nlp

    tables = imr_nlp.load().get_pipe("imr_diagnoses").icd_tables
    index = icd10.code_index(tables)
    again = icd10.decode_index(icd10.encode_index(index))
    assert list(again.entries) == list(index.entries)  # entries read lazily compare as sequences
    # and from a built index (lists of entries), each field as it was: the stored one may be a read one
    built = icd10.build_index(tables, icd10.code_set_items(tables.excluded_chapters))
    assert list(icd10.decode_index(icd10.encode_index(built)).entries) == built.entries
    assert built.entries == list(index.entries)
    assert (again.postings, again.descriptions, again.vocabulary, again.by_code, again.places) == (
        index.postings,
        index.descriptions,
        index.vocabulary,
        index.by_code,
        index.places,
    )
    assert again.other_descriptions == index.other_descriptions
    # every item of the code set is described without the code-set package at parse time
    assert index.description("V00.01XA") and index.description("M54.5") and index.description("M54.59X") is None


def test_parsing_needs_no_code_set_package_once_the_index_is_read(tmp_path):
    """The code-set package (seconds to load) is imported only to build the index: a process
    (a forked or spawned worker) that reads the stored index never loads it."""
    import subprocess
    import sys

    code = (
        "import sys, imr_nlp\n"
        "imr_nlp.parse('Diagnoses: lumbar radiculopathy; contusion of knee; poisoning by tramadol')\n"
        "print('simple_icd_10_cm' in sys.modules)\n"
    )
    env = {**os.environ, "IMR_NLP_INDEX_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[-1] == "True"  # built: the package was read
    assert again.stdout.split()[-1] == "False"


def test_the_lexicon_reads_back_as_built(folder):
    """The drug lexicon built from the package and the one read from its stored file hold the
    same names, generics and classes."""
    built = drugs.DrugLexicon(include_package_lexicon=True)  # builds and stores
    assert [path.name.split("-")[0] for path in folder.iterdir()] == ["drug_package_names"]
    read = drugs.DrugLexicon(include_package_lexicon=True)  # reads
    assert len(built.names) > 50_000
    assert read.names == built.names
    assert drugs.code_set_words() >= {"radiculopathy", "section"}


def test_the_misspelling_index_reads_back_as_built(folder):
    """The drug lexicon's misspelling index, built and stored by one lexicon and read by the next,
    is the same index and finds the same misspelt names."""
    built = drugs.DrugLexicon(include_package_lexicon=True)
    built_index = built._fuzzy_targets()  # builds and stores
    assert any(path.name.startswith("drug_fuzzy_index-") for path in folder.iterdir())
    read = drugs.DrugLexicon(include_package_lexicon=True)
    assert read._fuzzy_targets() == built_index
    assert read._fuzzy_max_length() == built._fuzzy_max_length()
    for word in ("klonipin", "levoquin", "gabapentn"):
        assert read.fuzzy(word) == built.fuzzy(word)
    assert read.fuzzy("klonipin").generic == "clonazepam"


def test_the_english_words_read_back_as_built(folder):
    """The common English words of the spelling package, stored as one string, read back the
    same set (and another count is another index)."""
    built = drugs._english_words(1000)
    drugs.english_words.cache_clear()
    try:
        assert drugs.english_words(1000) == built  # builds and stores
        drugs.english_words.cache_clear()
        assert drugs.english_words(1000) == built  # reads
        assert len([p for p in folder.iterdir() if p.name.startswith("english_words-")]) == 1
        assert drugs.english_words(2000) < built
        assert len([p for p in folder.iterdir() if p.name.startswith("english_words-")]) == 2
        assert {"warrant", "ability"} <= built
    finally:
        drugs.english_words.cache_clear()


def test_the_collector_is_paused_while_an_index_is_read_and_resumed_after(folder):
    import gc

    from imr_nlp.collection import collection_paused

    seen = []
    store(["a"], lambda: seen.append(gc.isenabled()) or ["a"])
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with collection_paused(), collection_paused():  # nested: the outer block resumes it
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_stored_code_index_with_broken_entries_is_refused_so_that_it_is_rebuilt():
    data = icd10.encode_index(icd10.CodeIndex([], {}, {}, frozenset()))
    assert icd10.decode_index(data).entries[0:] == []
    data["entries"] = "A00\x1cCholera"  # a row without all its fields
    with pytest.raises(ValueError, match="fields"):
        icd10.decode_index(data)

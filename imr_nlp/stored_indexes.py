"""Indexes derived from the lexicons and code sets, stored once and read back in a fraction of
the time they take to build.

The ICD-10-CM concept index, the drug lexicon's names from the drug NER package and the code
set's words take 10-30 s to build from the packages that ship them; every process (and every
spawn-mode worker) used to pay it. :func:`stored` builds such an index once, writes it as a
msgpack file and reads that file in every later process. A file is found by a key made of
everything the index is built from: the rules it depends on (the caller's ``inputs``), the
versions of the packages it reads, the source of the modules that build it and this module's
``FORMAT``, so a changed rule, package or builder never reads an index built before the change.

Where: ``$IMR_NLP_INDEX_DIR``, else ``$XDG_CACHE_HOME/imr_nlp`` (``~/.cache/imr_nlp``).
``IMR_NLP_INDEX_DIR=off`` turns storing off (every process builds). A folder that cannot be
written, or a file that cannot be read, costs a build and never fails a parse.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from srsly import msgpack

from imr_nlp.collection import collection_paused
from imr_nlp.io import remove_quietly, temporary_beside

FORMAT = 1
OFF = "off"
T = TypeVar("T")


def index_dir() -> Path | None:
    """The folder of the stored indexes, or None when storing is off."""
    configured = os.environ.get("IMR_NLP_INDEX_DIR")
    if configured is not None:
        return None if configured.strip().lower() == OFF else Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "imr_nlp"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _module_digest(module: str) -> str:
    """A digest of a module's source file (an index's builder): a changed builder is a new key."""
    path = getattr(sys.modules.get(module), "__file__", None)
    return hashlib.sha1(Path(path).read_bytes()).hexdigest() if path else module


def index_key(name: str, inputs: Any, packages: Iterable[str], builders: Iterable[str]) -> str:
    """The key of an index: its name, its inputs (JSON-serialisable), the versions of the
    packages it reads and the source of the modules that build it."""
    parts = [
        FORMAT,
        name,
        inputs,
        {package: _package_version(package) for package in sorted(packages)},
        {module: _module_digest(module) for module in sorted({*builders, __name__})},
    ]
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:24]


def stored(
    name: str,
    inputs: Any,
    build: Callable[[], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
    *,
    packages: Iterable[str] = (),
    builders: Iterable[str] = (),
) -> T:
    """The index ``name``: read from its stored file when one was written for the same key,
    else built, then stored (``encode`` gives msgpack-serialisable data, ``decode`` the index
    back from it); the garbage collector paused meanwhile (:mod:`imr_nlp.collection`)."""
    with collection_paused():
        return _stored(name, inputs, build, encode, decode, packages, builders)


def joined_table(table: dict[str, str], separator: str) -> list[str]:
    """A table of strings as two strings, its keys and its values, each joined by ``separator``
    (a character none of them holds): msgpack reads two large strings at once, where a map of
    100,000 entries costs a tenth of a second or more of every start."""
    return [separator.join(table), separator.join(table.values())]


def split_table(joined: list[str], separator: str) -> dict[str, str]:
    """The table :func:`joined_table` gave."""
    keys, values = joined
    return dict(zip(keys.split(separator), values.split(separator), strict=True)) if keys else {}


def _stored(name, inputs, build, encode, decode, packages, builders):
    folder = index_dir()
    if folder is None:
        return build()
    path = folder / f"{name}-{index_key(name, inputs, packages, builders)}.msgpack"
    try:
        # plain maps: no package's registered msgpack hook reads them (medspaCy's takes any map
        # with a "section" key for one of its Section objects)
        return decode(msgpack.unpackb(path.read_bytes(), raw=False, object_pairs_hook=dict))
    except FileNotFoundError:
        pass
    except Exception:  # noqa: BLE001 - a damaged or foreign file is rebuilt and replaced
        pass
    index = build()
    _write(path, msgpack.packb(encode(index), use_bin_type=True))
    _prune(folder, name)
    return index


KEPT_PER_INDEX = 3  # files of one index kept (other rules or versions in use); older ones go


def _prune(folder: Path, name: str) -> None:
    """Remove the oldest files of the index ``name`` beyond ``KEPT_PER_INDEX`` (an index of
    rules or packages since changed is never read again)."""
    try:
        files = sorted(folder.glob(f"{name}-*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[KEPT_PER_INDEX:]:
            old.unlink()
    except OSError:
        pass


def _write(path: Path, data: bytes) -> None:
    """Write atomically (``temporary_beside`` then a rename: a reader never sees half a file,
    concurrent writers leave one whole file, the mode is the umask's as for every output of
    ours); a folder that cannot be written leaves nothing and says nothing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = temporary_beside(str(path))
    except OSError:
        return
    try:
        with open(temp, "wb") as sink:
            sink.write(data)
        os.replace(temp, path)
    except OSError:
        remove_quietly(temp)

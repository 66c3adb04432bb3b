"""Generated kernels on disk: the source of every generated kernel is a real file, imported from there.

A kernel is identified by the hash of its generated source (which encodes the program's structure and
the storage dtype) together with the version of its code generator. The source is written once,
atomically, to ``<cache dir>/k_<hash>.py`` and imported from there, so compilers that cache by file
(numba's ``cache=True``: ``__pycache__`` beside it) or read a kernel's source back (Triton) both work,
and the first step of a new process costs a file import, not a compile.

The cache directory is ``<kind>`` in optimlab's cache folder (:func:`optimlab.paths.cache_dir`: default
``~/.cache/optimlab/fused`` for numba, ``.../triton``); if that is not writable, a per-user temporary
directory.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Hashable

from optimlab import paths
from optimlab.atomic import write_text

_LOCK = threading.Lock()


def code_version(*paths: Path) -> str:
    """A hash of the named source files: part of every generated file's name, so a change to a generator
    never meets a kernel made by an older one."""
    h = hashlib.sha256()
    for path in paths:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:12]


def memoised(cache: dict, key: Hashable, make: Callable[[], Any]) -> Any:
    """``cache[key]``, made by ``make()`` once per process even with several threads stepping at once."""
    value = cache.get(key)
    if value is None:
        with _LOCK:
            value = cache.get(key)
            if value is None:
                value = cache[key] = make()
    return value


def cache_dir(kind: str = "fused") -> Path:
    """Where generated kernels (and the compiler's cached code beside them) live (created if missing)."""
    root = paths.cache_dir(kind)
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    user = os.getuid() if hasattr(os, "getuid") else "user"
    fallback = Path(tempfile.gettempdir()) / f"optimlab-{kind}-{user}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _write_once(path: Path, text: str) -> None:
    """Write ``text`` atomically unless ``path`` already holds it (keeps numba's cache stamp stable)."""
    if not (path.exists() and path.read_text() == text):
        write_text(path, text)


def load_module(source: str, kind: str, version: str) -> ModuleType:
    """Import generated ``source`` from ``<cache dir of kind>/k_<hash>.py`` (written once, atomically): a
    real file, so compilers that cache by file (numba) or read the source back (Triton) both work."""
    digest = hashlib.sha256((version + source).encode()).hexdigest()[:20]
    path = cache_dir(kind) / f"k_{digest}.py"
    _write_once(path, source)
    name = f"optimlab_{kind}_k_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module

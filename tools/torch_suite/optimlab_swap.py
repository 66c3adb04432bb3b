"""pytest plugin for ``tools/torch_suite/run.py``: PyTorch's optimizer tests with optimlab's classes.

Loaded with ``-p optimlab_swap`` before the test module is imported, it replaces ``optim_cls`` of the
``optim_db`` entries named in ``OPTIMLAB_SUITE_OPTIMS`` by optimlab's class of the same name (torch's
keyword arguments reach it unchanged) when ``OPTIMLAB_SUITE_IMPL=optimlab``, and keeps only the CPU tests of
``TestOptimRenewed`` for those optimizers. With ``OPTIMLAB_SUITE_IMPL=torch`` nothing is swapped (the
baseline).
"""

from __future__ import annotations

import os
import re

import torch

IMPL = os.environ.get("OPTIMLAB_SUITE_IMPL", "torch")
KEEP = tuple(n for n in os.environ.get("OPTIMLAB_SUITE_OPTIMS", "").split(",") if n)
SWAPPED: dict[str, str] = {}


def _swap() -> None:
    if IMPL == "torch":
        return
    if IMPL != "optimlab":
        raise SystemExit(f"OPTIMLAB_SUITE_IMPL must be torch or optimlab, got {IMPL!r}")
    import optimlab
    from torch.testing._internal import common_optimizers

    for info in common_optimizers.optim_db:
        name = info.optim_cls.__name__
        if name in KEEP:
            object.__setattr__(info, "optim_cls", getattr(optimlab, name))
            SWAPPED[name] = f"optimlab.{name}"
    missing = set(KEEP) - set(SWAPPED)
    if missing:
        raise RuntimeError(f"optim_db has no entry for {sorted(missing)}")


_swap()
_NAME = re.compile(r"_(" + "|".join(map(re.escape, KEEP)) + r")_cpu(_|$)")


def pytest_report_header(config):
    line = f"optimlab torch suite: impl={IMPL}, torch {torch.__version__} ({torch.version.git_version})"
    if SWAPPED:
        import optimlab

        line += f", optimlab from {os.path.dirname(optimlab.__file__)}: " + ", ".join(SWAPPED)
    return [line]


def pytest_collection_modifyitems(config, items):
    keep, drop = [], []
    for item in items:
        cls = getattr(item, "cls", None)
        ok = cls is not None and cls.__name__ == "TestOptimRenewedCPU" and _NAME.search(item.name)
        (keep if ok else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

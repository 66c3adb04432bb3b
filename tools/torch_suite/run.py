#!/usr/bin/env python
"""Run PyTorch's own optimizer tests (``test/test_optim.py``, class ``TestOptimRenewed``, driven by
``torch.testing._internal.common_optimizers.optim_db`` from the torch wheel) on CPU against torch.optim or
against optimlab's classes substituted for torch.optim's.

PyTorch's test file is not part of optimlab and is never copied into the repository: pass the path of a
``test/test_optim.py`` from a PyTorch source tree that matches the installed torch. This script writes an
adapted copy to a work folder (its imports of the sibling modules ``optim.test_optim``,
``optim.test_lrscheduler`` and ``optim.test_swa_utils`` and the ``TestSWAUtils`` instantiation commented out;
``TestOptimRenewed`` needs none of them) and runs pytest on it with the plugin ``optimlab_swap``::

    python tools/torch_suite/run.py --test-file ~/src/pytorch/test/test_optim.py --impl torch
    python tools/torch_suite/run.py --test-file ~/src/pytorch/test/test_optim.py --impl optimlab

torch.testing needs ``expecttest`` (in optimlab's ``test`` extra). Prints passed/failed/skipped per optimizer
and writes ``summary.json`` (with every failure's first line) to the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
EIGHT = ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "Adamax")
SIBLINGS = ("from optim.test_lrscheduler import", "from optim.test_optim import", "from optim.test_swa_utils import",
            "instantiate_device_type_tests(TestSWAUtils")


def adapt(source: str) -> str:
    """PyTorch's file with the lines that import its sibling test modules commented out."""
    out, removed = [], 0
    for line in source.splitlines(keepends=True):
        if line.lstrip().startswith(SIBLINGS):
            line, removed = "# [optimlab torch suite] " + line, removed + 1
        out.append(line)
    if removed == 0:
        sys.exit("no sibling-module imports found: is this PyTorch's test/test_optim.py?")
    return "".join(out)


def summarize(junit: Path, optims: tuple[str, ...]) -> dict:
    counts: Counter = Counter()
    per_optim: dict[str, Counter] = {}
    failures = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name", "")
        optim = next((o for o in sorted(optims, key=len, reverse=True) if f"_{o}_cpu" in name), "?")
        status, detail = "passed", ""
        for tag, label in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            el = case.find(tag)
            if el is not None:
                status, detail = label, (el.get("message") or el.text or "").strip().splitlines()[:1]
                break
        counts[status] += 1
        per_optim.setdefault(optim, Counter())[status] += 1
        if status in ("failed", "error"):
            failures.append({"test": name, "status": status, "first_line": detail[0] if detail else ""})
    return {"counts": dict(counts), "per_optim": {k: dict(v) for k, v in sorted(per_optim.items())},
            "failures": failures}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--test-file", required=True, type=Path, help="PyTorch's test/test_optim.py")
    ap.add_argument("--impl", choices=("torch", "optimlab"), required=True)
    ap.add_argument("--optims", default=",".join(EIGHT), help="optimizers to run (default: %(default)s)")
    ap.add_argument("--workdir", type=Path, default=None, help="where the adapted file and results go")
    ap.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (0: none)")
    args = ap.parse_args()
    if not args.test_file.is_file():
        ap.error(f"--test-file {str(args.test_file)!r}: no such file")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="optimlab-torch-suite-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "test_optim.py").write_text(adapt(args.test_file.read_text()))
    junit = work / f"junit-{args.impl}.xml"
    env = {**os.environ, "OPTIMLAB_SUITE_IMPL": args.impl, "OPTIMLAB_SUITE_OPTIMS": args.optims,
           "PYTORCH_TESTING_DEVICE_ONLY_FOR": "cpu",
           "PYTHONPATH": os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH", "")) if p)}
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "pytest", str(work / "test_optim.py"), "-p", "optimlab_swap", "-p", "no:cacheprovider",
           "-q", "--tb=short", f"--junitxml={junit}", "--rootdir", str(work), "-c", os.devnull]
    if args.workers not in ("0", ""):
        cmd += ["-n", args.workers]
    t0 = time.time()
    with open(work / f"pytest-{args.impl}.log", "w") as log:
        rc = subprocess.run(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
    if not junit.exists():
        print((work / f"pytest-{args.impl}.log").read_text()[-4000:])
        return rc or 1
    summary = summarize(junit, tuple(args.optims.split(",")))
    summary.update(impl=args.impl, seconds=round(time.time() - t0, 1))
    (work / f"summary-{args.impl}.json").write_text(json.dumps(summary, indent=1))
    print(f"{args.impl}: {summary['counts']} in {summary['seconds']} s (details in {work})")
    for optim, counts in summary["per_optim"].items():
        print(f"  {optim:9} {counts}")
    for failure in summary["failures"]:
        print(f"  FAILED {failure['test']}: {failure['first_line']}")
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Mutation check: the tests catch the bugs they claim to catch.

``tools/mutants.toml`` lists small deliberate bugs, at least one per claim the project makes. For each
mutant this script copies the code and the tests into a temporary folder, applies the one edit (an exact
``old`` snippet, which must occur exactly once in its file, replaced by ``new``), runs the tests the mutant
names there and reports whether they caught it. Every mutant must be caught.

* **caught**: pytest failed (exit status 1): a test saw the bug; the first failing test is shown.
* **caught at import**: the mutated code failed while the tests were collected (an error, not a failure).
* **SURVIVED**: every selected test passed with the bug in place: a missing or too weak test.
* **STALE**: the ``old`` snippet occurs 0 or several times (the code moved on): fix the list.
* **BAD**: the edit does not compile (a mutant must be a semantic bug, not a syntax error).
* **TIMEOUT**, **ERROR**, **BASELINE FAILED**: the check itself could not decide; see the message.

Before any mutant, each test selection the mutants use runs on an unmutated copy and must pass, so a
broken selection is never mistaken for a catch. Every run imports the copy (``PYTHONPATH``), keeps its
generated kernels in its own cache folder (``OPTIMLAB_CACHE_DIR``, ``TRITON_CACHE_DIR``) and stops at the
first failure. Nothing is written outside the temporary folder; results are printed only.

Usage::

    python tools/mutants.py                 # every mutant (make mutants)
    python tools/mutants.py --list          # the list, with stale snippets flagged
    python tools/mutants.py --only 'ops.*,plan.param-address' --jobs 1

Exit status: 0 when every mutant was caught, 1 otherwise.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    try:
        import tomli as tomllib
    except ImportError:
        sys.exit("tools/mutants.py needs Python >= 3.11 (tomllib) or the tomli package")

ROOT = Path(__file__).resolve().parents[1]
LIST = ROOT / "tools" / "mutants.toml"
COPIED = ("src", "tests", "pyproject.toml", "README.md", "docs/optimizers.md")
"""What a test run needs: the package, the tests and the files tests read (the README's examples, the docs page)."""
FIELDS = {"id", "claim", "file", "old", "new", "tests"}
CAUGHT = ("caught", "caught at import")


@dataclass(frozen=True)
class Mutant:
    id: str
    claim: str
    file: str
    old: str
    new: str
    tests: str  # the name of a selection


@dataclass
class Result:
    status: str
    seconds: float = 0.0
    detail: str = ""


def load(path: Path = LIST) -> tuple[dict[str, list[str]], list[Mutant]]:
    """The named test selections and the mutants, checked for missing or unknown fields and duplicate ids."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    selections = data.get("selections", {})
    mutants, seen = [], set()
    for i, entry in enumerate(data.get("mutant", [])):
        where = f"{path.name}: mutant #{i + 1} ({entry.get('id', '?')})"
        if set(entry) != FIELDS:
            sys.exit(f"{where}: fields {sorted(set(entry))}, expected {sorted(FIELDS)}")
        if entry["id"] in seen:
            sys.exit(f"{where}: duplicate id")
        if entry["tests"] not in selections:
            sys.exit(f"{where}: unknown selection {entry['tests']!r}; defined: {', '.join(selections)}")
        if entry["old"] == entry["new"]:
            sys.exit(f"{where}: old and new are the same")
        seen.add(entry["id"])
        mutants.append(Mutant(**entry))
    return selections, mutants


def stale(m: Mutant, root: Path = ROOT) -> str | None:
    """Why ``m`` can no longer be applied (its snippet is not in its file exactly once), or None."""
    path = root / m.file
    if not path.is_file():
        return f"{m.file} does not exist"
    n = path.read_text(encoding="utf-8").count(m.old)
    return None if n == 1 else f"the old snippet occurs {n} times in {m.file} (must be exactly once)"


def make_copy(dest: Path, source: Path = ROOT) -> Path:
    for name in COPIED:
        src, dst = source / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(src, dst)
    return dest


def apply(copy: Path, m: Mutant) -> str | None:
    """Apply ``m`` to the copy; a compile error of the result is returned (the mutant is bad)."""
    path = copy / m.file
    text = path.read_text(encoding="utf-8").replace(m.old, m.new, 1)
    try:
        compile(text, str(path), "exec")
    except SyntaxError as exc:
        return f"the mutated file does not compile: {exc}"
    path.write_text(text, encoding="utf-8")
    return None


def environment(copy: Path) -> dict[str, str]:
    """The copy's package first on the path, its own kernel caches, one thread per process."""
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "OPTIMLAB_CACHE_DIR": str(copy / ".cache" / "optimlab"),
           "TRITON_CACHE_DIR": str(copy / ".cache" / "triton"), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "PYTHONHASHSEED": "0"}
    for name in ("TRITON_INTERPRET", "OPTIMLAB_TEST_DEVICE"):  # the tests set them where they need them
        env.pop(name, None)
    return env


_RUNNING: set[int] = set()
_LOCK = threading.Lock()


def run(cmd: list[str], copy: Path, timeout: float) -> tuple[int | None, str, float]:
    """``(exit status or None on timeout, output, seconds)`` of ``cmd`` run in ``copy``."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=copy, env=environment(copy), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    with _LOCK:
        _RUNNING.add(proc.pid)
    try:
        out, _ = proc.communicate(timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        _kill(proc.pid)
        out, _ = proc.communicate()
        rc = None
    finally:
        with _LOCK:
            _RUNNING.discard(proc.pid)
    return rc, out, time.monotonic() - started


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # the run's whole process group: pytest and anything it started
    except ProcessLookupError:
        pass


def pytest_cmd(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]


def first_failure(output: str) -> str:
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.M)
    return found.group(1) if found else ""


def tail(output: str, lines: int = 25) -> str:
    return "\n".join("    | " + line for line in output.rstrip().splitlines()[-lines:])


def judge(rc: int | None, output: str, seconds: float, timeout: float) -> Result:
    """What a mutant's test run says."""
    if rc is None:
        return Result("TIMEOUT", seconds, f"the tests ran past {timeout:g} s; raise --timeout or shrink the selection")
    if rc == 1:
        return Result("caught", seconds, first_failure(output))
    collecting = "ERROR collecting" in output or "ImportError while loading conftest" in output
    if rc in (2, 4) and collecting:
        return Result("caught at import", seconds, first_failure(output) or "collection error")
    if rc == 0:
        return Result("SURVIVED", seconds, "every selected test passed with the bug in place\n" + tail(output, 3))
    if rc < 0:
        return Result("ERROR", seconds, f"pytest died of signal {-rc} (a crash is not a clean catch)\n" + tail(output))
    return Result("ERROR", seconds, f"pytest exit status {rc}\n" + tail(output))


def sanity(work: Path, snapshot: Path) -> None:
    """The copy, not an installed optimlab, is what a run imports."""
    copy = make_copy(work / "sanity", snapshot)
    rc, out, _ = run([sys.executable, "-c", "import optimlab; print(optimlab.__file__)"], copy, 300)
    where = out.strip().splitlines()[-1] if out.strip() else ""
    if rc != 0 or not Path(where).resolve().is_relative_to((copy / "src").resolve()):
        sys.exit(f"sanity check failed: a run imports optimlab from {where!r}, not from the copy {copy / 'src'}\n{out}")
    shutil.rmtree(copy, ignore_errors=True)


def baseline(work: Path, snapshot: Path, name: str, args: list[str], timeout: float, keep: bool) -> Result:
    copy = make_copy(work / f"baseline-{name}", snapshot)
    rc, out, seconds = run(pytest_cmd(args), copy, timeout)
    if rc == 0:
        shutil.rmtree(copy, ignore_errors=True)
        return Result("passed", seconds)
    why = "timed out" if rc is None else f"exit status {rc}" + (" (no tests collected)" if rc == 5 else "")
    kept = f"\n    the copy is kept in {copy}" if keep else ""
    if not keep:
        shutil.rmtree(copy, ignore_errors=True)
    return Result("BASELINE FAILED", seconds, f"selection {name!r} on the unmutated code: {why}\n" + tail(out) + kept)


def mutate(work: Path, snapshot: Path, k: int, m: Mutant, args: list[str], timeout: float, keep: bool) -> Result:
    copy = make_copy(work / f"{k:03d}-{m.id}", snapshot)
    result = Result("ERROR", 0.0, "the run did not finish")
    try:
        bad = apply(copy, m)
        result = Result("BAD", 0.0, bad) if bad else judge(*run(pytest_cmd(args), copy, timeout), timeout)
        return result
    finally:
        if keep and result.status not in CAUGHT:
            result.detail += f"\n    the mutated copy is kept in {copy}"
        else:
            shutil.rmtree(copy, ignore_errors=True)


def select(mutants: list[Mutant], only: str | None) -> list[Mutant]:
    if not only:
        return mutants
    patterns = [p.strip() for p in only.split(",") if p.strip()]
    chosen = [m for m in mutants if any(fnmatch.fnmatchcase(m.id, p) for p in patterns)]
    unmatched = [p for p in patterns if not any(fnmatch.fnmatchcase(m.id, p) for m in mutants)]
    if unmatched:
        sys.exit(f"--only: no mutant matches {', '.join(unmatched)} (see --list)")
    return chosen


def print_list(selections: dict[str, list[str]], mutants: list[Mutant]) -> int:
    width = max(len(m.id) for m in mutants)
    problems = 0
    for m in mutants:
        why = stale(m)
        problems += why is not None
        print(f"{m.id:<{width}}  {m.file:<48} [{m.tests}]  {m.claim}" + (f"\n{'':<{width}}  STALE: {why}" if why else ""))
    print(f"\n{len(mutants)} mutants, {len(selections)} test selections" + (f", {problems} STALE" if problems else ""))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print the mutants (flagging stale ones) and exit")
    parser.add_argument("--only", metavar="IDS", help="comma-separated mutant ids or glob patterns ('ops.*')")
    parser.add_argument("--jobs", type=int, default=2, help="test runs at a time (default 2)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per test run (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the copies of mutants that were not caught")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    selections, mutants = load()
    if args.list:
        return print_list(selections, mutants)
    mutants = select(mutants, args.only)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="optimlab-mutants-"))
    snapshot = make_copy(work / "snapshot")  # every run copies this: edits made meanwhile do not leak in
    results: dict[str, Result] = {}
    for m in mutants:
        why = stale(m, snapshot)
        if why:
            results[m.id] = Result("STALE", 0.0, why)
    todo = [m for m in mutants if m.id not in results]
    used = sorted({m.tests for m in todo})
    print(f"{len(mutants)} mutants, {len(used)} test selections, {args.jobs} at a time, in {work}", flush=True)
    pool = ThreadPoolExecutor(args.jobs)
    try:
        sanity(work, snapshot)
        failed_baselines: dict[str, Result] = {}
        futures = {pool.submit(baseline, work, snapshot, name, selections[name], args.timeout, args.keep): name for name in used}
        for future in as_completed(futures):
            name, r = futures[future], future.result()
            print(f"  baseline {name:<28} {r.status:<16} {r.seconds:6.1f} s", flush=True)
            if r.status != "passed":
                print(r.detail, flush=True)
                failed_baselines[name] = r
        for m in todo:
            if m.tests in failed_baselines:
                results[m.id] = Result("BASELINE FAILED", 0.0, f"selection {m.tests!r} fails without the mutant")
        runnable = [m for m in todo if m.id not in results]
        futures = {pool.submit(mutate, work, snapshot, k, m, selections[m.tests], args.timeout, args.keep): m
                   for k, m in enumerate(runnable)}
        for n, future in enumerate(as_completed(futures), 1):
            m = futures[future]
            r = results[m.id] = future.result()
            print(f"  [{n:>3}/{len(runnable)}] {m.id:<34} {r.status:<16} {r.seconds:6.1f} s  "
                  f"{r.detail if r.status in CAUGHT else ''}", flush=True)
            if r.status not in CAUGHT:
                print(f"      {r.detail}", flush=True)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        with _LOCK:
            for pid in list(_RUNNING):
                _kill(pid)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return report(mutants, results, time.monotonic() - started)


def report(mutants: list[Mutant], results: dict[str, Result], seconds: float) -> int:
    """The final table; 0 when every mutant was caught."""
    width = max(len(m.id) for m in mutants)
    print(f"\n{'mutant':<{width}}  {'result':<16} {'s':>6}  claim")
    for m in mutants:
        r = results.get(m.id, Result("NOT RUN"))
        print(f"{m.id:<{width}}  {r.status:<16} {r.seconds:6.1f}  {m.claim}")
    counts: dict[str, int] = {}
    for r in results.values():
        counts[r.status] = counts.get(r.status, 0) + 1
    bad = {s: n for s, n in counts.items() if s not in CAUGHT}
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"\n{summary} of {len(mutants)} mutants; {seconds / 60:.1f} min")
    for m in mutants:
        r = results.get(m.id)
        if r is not None and r.status not in CAUGHT:
            print(f"\n{r.status}: {m.id} ({m.file}): {m.claim}\n    {r.detail}")
    return 1 if bad or len(results) < len(mutants) else 0


if __name__ == "__main__":
    sys.exit(main())

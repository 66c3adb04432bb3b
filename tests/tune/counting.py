"""Count the training runs themselves, not the finished trials in the storage.

A sweep that re-runs a finished trial can leave the storage looking the same (the first trial still
counts for its key), so "ran == 0" cannot see it; these counters record every call of
``optimlab.bench.tasks.Task.run`` (what one trial trains), in this process or in worker processes.

* :func:`record` (in this process): a list that receives ``(optimizer, lr, seed, steps)`` per call.
* :func:`record_to` (any process): the same, one line appended to a file per call, written *before*
  the run starts, so a run killed mid-way is counted too; :func:`read` reads the file back.
* :func:`counting_worker`: a stand-in for ``study._worker_main`` (the target of the tuning worker
  processes) that records to a file, then runs the real worker.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

Call = tuple  # (optimizer, lr, seed, steps)


def _wrap(real, sink):
    @functools.wraps(real)
    def run(self, optimizer, lr, *args, **kwargs):
        sink((optimizer, float(lr), kwargs.get("seed", 0), kwargs.get("steps")))
        return real(self, optimizer, lr, *args, **kwargs)

    return run


def record(monkeypatch) -> list[Call]:
    """Every training run in this process from now on (until ``monkeypatch`` is undone)."""
    from optimlab.bench import tasks

    calls: list[Call] = []
    monkeypatch.setattr(tasks.Task, "run", _wrap(tasks.Task.run, calls.append))
    return calls


def record_to(path: str | os.PathLike) -> None:
    """Append every training run of this process to ``path`` (for a process that is about to be forked
    or a subprocess: nothing to undo)."""
    from optimlab.bench import tasks

    def append(call: Call) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (repr(call) + "\n").encode())  # one short O_APPEND write: whole lines, never mixed
        finally:
            os.close(fd)

    tasks.Task.run = _wrap(tasks.Task.run, append)


def read(path: str | os.PathLike) -> list[Call]:
    import ast

    p = Path(path)
    return [ast.literal_eval(line) for line in p.read_text().splitlines()] if p.exists() else []


def counting_worker(path: str, *args):
    """A tuning worker process that records its training runs to ``path`` (``functools.partial`` it)."""
    from optimlab.tune import study

    record_to(path)
    return study._worker_main(*args)


# The same recorder for a ``python -c`` subprocess (no test package on its path): prepend to the code.
SNIPPET = """\
import os
from optimlab.bench import tasks as _t
_real = _t.Task.run
def _run(self, optimizer, lr, *a, **k):
    fd = os.open({path!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.write(fd, (repr((optimizer, float(lr), k.get("seed", 0), k.get("steps"))) + "\\n").encode())
    os.close(fd)
    return _real(self, optimizer, lr, *a, **k)
_t.Task.run = _run
"""

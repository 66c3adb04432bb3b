"""Write a report directory all at once: build it in a temporary sibling, then rename it into place.

A failure at any point leaves the target as it was (absent, or the previous report), never half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

MARKER = "results.json"


class AtomicDirectory:
    """``with AtomicDirectory(target) as tmp: write into tmp`` — on success ``tmp`` becomes ``target``.

    An existing ``target`` is replaced only when it is empty or holds a previous report (a
    ``results.json``); anything else is refused, so ``--out ~`` can never wipe a home directory.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target).expanduser().absolute()
        self.tmp: Path | None = None

    def check(self) -> None:
        """Raise a clear error now if the target cannot be written (before any long computation)."""
        t = self.target
        if t.exists() and not t.is_dir():
            raise ValueError(f"Invalid --out: {str(t)!r} is a file; allowed: a new or report directory")
        if t.is_dir() and any(t.iterdir()) and not (t / MARKER).is_file():
            raise ValueError(f"Invalid --out: {str(t)!r} is a non-empty directory that holds no report "
                             f"({MARKER}); allowed: a new, empty or previous report directory")
        try:
            t.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PermissionError(f"Invalid --out: cannot create {str(t.parent)!r}: {exc.strerror or exc}") from exc
        if not os.access(t.parent, os.W_OK | os.X_OK):
            raise PermissionError(f"Invalid --out: {str(t.parent)!r} is not writable")

    def __enter__(self) -> Path:
        self.check()
        try:
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
        except OSError as exc:
            raise PermissionError(f"Invalid --out: cannot write in {str(self.target.parent)!r}: "
                                  f"{exc.strerror or exc}") from exc
        return self.tmp

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self.tmp is not None
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            self._commit()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise

    def _commit(self) -> None:
        assert self.tmp is not None
        self.tmp.chmod(0o755 & ~_umask())
        old = None
        if self.target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=self.target.parent))
            os.replace(self.target, old / "report")
        try:
            os.replace(self.tmp, self.target)
        except BaseException:
            if old is not None:
                os.replace(old / "report", self.target)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Where a report may be written: checked before any long computation.

The directory itself is written with :func:`optimlab.atomic.directory` (built in a temporary sibling,
renamed into place), so a failure leaves the target as it was: absent, or the previous report.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

MARKER = "results.json"


def check_target(target: str | os.PathLike) -> Path:
    """The absolute target path, or a clear error if a report cannot (or must not) be written there.

    An existing ``target`` may be replaced only when it is empty or holds a previous report (a
    ``results.json``); anything else is refused, so ``--out ~`` can never wipe a home directory.
    Missing parent folders are not created here (a refused run leaves nothing behind): the nearest
    existing ancestor must accept a new folder.
    """
    t = Path(target).expanduser().absolute()
    if t.exists() and not t.is_dir():
        raise ValueError(f"Invalid --out: {str(t)!r} is a file; allowed: a new or report directory")
    if t.is_dir() and any(t.iterdir()) and not (t / MARKER).is_file():
        raise ValueError(f"Invalid --out: {str(t)!r} is a non-empty directory that holds no report "
                         f"({MARKER}); allowed: a new, empty or previous report directory")
    base = t.parent  # the nearest existing ancestor: nothing is created before the report itself
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise PermissionError(f"Invalid --out: cannot create {str(t.parent)!r}: {str(base)!r} is a file")
    try:  # the real test: create (and remove) a directory where the report's folders will be made
        os.rmdir(tempfile.mkdtemp(prefix=f".{t.name}.probe-", dir=base))
    except OSError as exc:
        raise PermissionError(f"Invalid --out: cannot write in {str(base)!r}: {exc.strerror or exc}") from None
    return t

"""Atomic writes: a failure leaves the old content (or nothing), never a partial file or directory."""

from __future__ import annotations

import pytest

from optimlab import atomic


def test_write_text_replaces_whole_file(tmp_path):
    target = tmp_path / "sub" / "a.json"
    atomic.write_text(target, "one")
    atomic.write_text(target, "two")
    assert target.read_text() == "two"
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.json"
    atomic.write_text(target, "old")
    with pytest.raises(TypeError):
        atomic.write_bytes(target, "not bytes")  # fails in the middle: after the output file was opened
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_directory_is_moved_in_only_on_success(tmp_path):
    out = tmp_path / "report"
    with atomic.directory(out) as d:
        (d / "index.html").write_text("v1")
    assert (out / "index.html").read_text() == "v1"
    with pytest.raises(RuntimeError):
        with atomic.directory(out) as d:
            (d / "index.html").write_text("half")
            raise RuntimeError("boom")
    assert (out / "index.html").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_outputs_get_the_permissions_a_plain_open_would_give(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        f = atomic.write_text(tmp_path / "a.json", "{}")
        with atomic.directory(tmp_path / "report") as d:
            (d / "index.html").write_text("x")
    finally:
        os.umask(mask)
    assert f.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "report").stat().st_mode & 0o777 == 0o755

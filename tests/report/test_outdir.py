"""The report directory appears all at once: a failure leaves the target as it was."""

from __future__ import annotations

import os

import pytest

from optimlab.report.outdir import AtomicDirectory


def _leftovers(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_success_renames_the_built_directory_into_place(tmp_path):
    target = tmp_path / "rep"
    with AtomicDirectory(target) as tmp:
        (tmp / "results.json").write_text("{}")
        assert not target.exists()
    assert (target / "results.json").read_text() == "{}"
    assert _leftovers(tmp_path) == []


def test_failure_mid_way_leaves_no_target_and_no_temp(tmp_path):
    target = tmp_path / "rep"
    with pytest.raises(RuntimeError):
        with AtomicDirectory(target) as tmp:
            (tmp / "index.html").write_text("half")
            raise RuntimeError("boom")
    assert not target.exists() and _leftovers(tmp_path) == []


def test_failure_keeps_the_previous_report_and_success_replaces_it(tmp_path):
    target = tmp_path / "rep"
    target.mkdir()
    (target / "results.json").write_text("old")
    with pytest.raises(RuntimeError):
        with AtomicDirectory(target) as tmp:
            (tmp / "results.json").write_text("new")
            raise RuntimeError("boom")
    assert (target / "results.json").read_text() == "old"
    with AtomicDirectory(target) as tmp:
        (tmp / "results.json").write_text("new")
    assert (target / "results.json").read_text() == "new"
    assert _leftovers(tmp_path) == []


def test_refuses_a_directory_that_is_not_a_report(tmp_path):
    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(ValueError, match="holds no report"):
        AtomicDirectory(tmp_path).check()
    assert (tmp_path / "precious.txt").read_text() == "keep"


def test_refuses_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        AtomicDirectory(f).check()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into a read-only directory")
def test_unwritable_parent_is_a_permission_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            AtomicDirectory(ro / "rep").check()
    finally:
        ro.chmod(0o700)


def test_parent_that_cannot_be_created_is_a_permission_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(PermissionError, match="cannot create"):
        AtomicDirectory(blocker / "sub" / "rep").check()

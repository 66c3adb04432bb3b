"""Where a report may go: refused targets fail before any work, and a failure leaves no report."""

from __future__ import annotations

import pytest

from optimlab.report.compare import write_report
from optimlab.report.outdir import check_target
from tests.report import synthetic


def _hidden(parent):
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_refuses_a_directory_that_is_not_a_report(tmp_path):
    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(ValueError, match="holds no report"):
        check_target(tmp_path)
    with pytest.raises(ValueError, match="holds no report"):
        write_report(synthetic.results(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.txt"]


def test_refuses_a_file(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        check_target(f)


def test_parent_that_cannot_be_created_is_a_permission_error(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(PermissionError, match="cannot create"):
        check_target(blocker / "sub" / "rep")


def test_a_previous_report_is_replaced_whole(tmp_path):
    out = tmp_path / "rep"
    write_report(synthetic.results(), out)
    (out / "stale.png").write_bytes(b"old figure")
    write_report(synthetic.results(), out)
    assert not (out / "stale.png").exists() and (out / "index.html").is_file()
    assert _hidden(tmp_path) == []
    assert (out.stat().st_mode & 0o755) == 0o755


def test_failure_mid_way_keeps_the_previous_report(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    write_report(synthetic.results(), out)
    before = (out / "index.html").read_bytes()
    from optimlab.report import compare

    def broken(results, directory, **kwargs):
        (directory / "index.html").write_text("half a page")
        raise RuntimeError("disk full")

    monkeypatch.setattr(compare, "render_html", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        write_report(synthetic.results(), out)
    assert (out / "index.html").read_bytes() == before
    assert _hidden(tmp_path) == []


def test_a_parent_where_nothing_can_be_created_is_refused_before_any_work(tmp_path):
    with pytest.raises(PermissionError, match="cannot write in '/proc'"):
        check_target("/proc/report")
    assert check_target(tmp_path / "new" / "rep") == tmp_path / "new" / "rep"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither the parent nor the probe is left


def test_missing_parents_are_created_only_when_the_report_is_written(tmp_path):
    out = tmp_path / "a" / "b" / "rep"
    check_target(out)
    assert not (tmp_path / "a").exists()
    write_report(synthetic.results(), out)
    assert (out / "index.html").is_file() and _hidden(out.parent) == []

"""The command line: `optimlab race` and `optimlab surfaces`, happy paths and error paths."""

from __future__ import annotations

import pytest
from PIL import Image

from optimlab import cli
from optimlab.lab import surfaces


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_surfaces_lists_every_surface(capsys):
    code, out, _ = run_cli(capsys, "surfaces")
    assert code == 0
    for name in surfaces.names():
        assert name in out
    code, out, _ = run_cli(capsys, "surfaces", "--names")
    assert out.split() == surfaces.names()


def test_race_writes_a_png_with_lrs_from_the_command_line(capsys, tmp_path):
    out_file = tmp_path / "r.png"
    code, out, err = run_cli(capsys, "race", "--surface", "booth", "--optimizers", "sgd,adam", "--steps", "15",
                             "--lr", "adam=0.5", "--lr", "sgd=0.01", "--start=-5,-5", "--size", "400x240",
                             "--clip", "10", "--out", str(out_file))
    assert code == 0, err
    assert "0.5" in out and "clipped at 10" in out and str(out_file) in out
    with Image.open(out_file) as im:
        assert im.size == (400, 240)


def test_race_tunes_and_animates(capsys, tmp_path):
    out_file = tmp_path / "r.gif"
    code, out, err = run_cli(capsys, "race", "--surface", "booth", "--optimizers", "adam", "--steps", "10",
                             "--tune", "--frames", "3", "--fps", "5", "--size", "300x200", "--out", str(out_file))
    assert code == 0, err
    assert "tuned" in out
    with Image.open(out_file) as im:
        assert im.n_frames == 3 and im.size == (300, 200)


@pytest.mark.parametrize("args, message", [
    (["--surface", "nope"], "valid names: beale"),
    (["--optimizers", "adam,nope"], "valid names: sgd"),
    (["--steps", "0"], "steps"),
    (["--steps", "-3"], "steps"),
    (["--start", "9,9"], "outside the beale domain"),
    (["--start", "1"], "x,y"),
    (["--lr", "adam=0"], "lr for adam"),
    (["--lr", "adam=-0.1"], "lr for adam"),
    (["--lr", "adam"], "NAME=LR"),
    (["--lr", "nag=0.1", "--optimizers", "adam"], "not racing"),
    (["--out", "race.jpg"], "allowed: .png, .gif, .mp4"),
    (["--size", "big"], "WxH"),
    (["--fps", "0"], "fps"),
    (["--frames", "1"], "frames"),
    (["--clip", "-1"], "clip"),
])
def test_error_paths_exit_non_zero_with_a_message(capsys, tmp_path, args, message):
    argv = ["race", "--steps", "5", "--out", str(tmp_path / "x.png"), *args]
    code, out, err = run_cli(capsys, *argv)
    assert code != 0
    assert message in err and err.startswith("optimlab race: error:")
    assert not (tmp_path / "x.png").exists()

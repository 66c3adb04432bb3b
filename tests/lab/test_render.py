"""Rendering: valid images of the expected size and frame count, not blank, atomic, format from the
extension."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageSequence

from optimlab.lab import race, render
from optimlab.lab.rendering import DEFAULT_SIZE, frame_steps

SMALL = (400, 240)


@pytest.fixture(scope="module")
def result():
    return race("beale", ["sgd", "momentum", "adam", "rmsprop"], steps=30,
                lrs={"sgd": 0.01, "momentum": 0.005, "adam": 0.2, "rmsprop": 0.05}, clip=50.0, cache=False)


def not_blank(frame: np.ndarray) -> None:
    assert frame.std() > 20
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 20


def test_png_default_size_and_content(result, tmp_path):
    out = render(result, tmp_path / "race.png")
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == DEFAULT_SIZE
        frame = np.asarray(im.convert("RGB"))
    not_blank(frame)
    # every racer's colour appears (Okabe-Ito vermillion and blue are the first two)
    for rgb in ((0xD5, 0x5E, 0x00), (0x00, 0x72, 0xB2)):
        assert (np.abs(frame.astype(int) - rgb).sum(-1) < 30).sum() > 50
    assert [p.name for p in tmp_path.iterdir()] == ["race.png"]


def test_gif_frames_size_and_motion(result, tmp_path):
    out = render(result, tmp_path / "race.gif", frames=6, size=SMALL, fps=10)
    with Image.open(out) as im:
        assert im.format == "GIF" and im.size == SMALL and im.n_frames == 6
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
        assert im.info.get("loop") == 0
    for f in frames:
        not_blank(f)
    assert np.abs(frames[-1].astype(int) - frames[0]).sum() > 0  # the paths moved


def test_mp4_frames_and_size(result, tmp_path):
    import imageio_ffmpeg

    out = render(result, tmp_path / "race.mp4", frames=5, size=SMALL, fps=4)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    frames = [np.frombuffer(b, np.uint8).reshape(SMALL[1], SMALL[0], 3) for b in reader]
    assert tuple(meta["size"]) == SMALL
    assert len(frames) == 5 + round(1.5 * 4)  # the last frame is held for 1.5 s
    not_blank(frames[0])


def test_3d_view(result, tmp_path):
    out = render(result, tmp_path / "race3d.gif", frames=3, size=SMALL, three_d=True)
    with Image.open(out) as im:
        assert im.size == SMALL and im.n_frames == 3
        not_blank(np.asarray(im.convert("RGB")))


def test_diverged_and_stochastic_runs_render(tmp_path):
    diverged = race("rosenbrock", ["sgd", "adam"], steps=20, lrs={"sgd": 1.0, "adam": 0.1}, cache=False)
    assert diverged.runs[0].diverged
    stochastic = race("moons", ["sgd", "adam"], steps=20, lrs={"sgd": 0.5, "adam": 0.1}, cache=False)
    for i, res in enumerate((diverged, stochastic)):
        out = render(res, tmp_path / f"{i}.gif", size=SMALL, frames=4)
        with Image.open(out) as im:
            assert im.n_frames == 4
            not_blank(np.asarray(im.convert("RGB")))


def test_frame_sampling():
    assert frame_steps(300)[0] == 0 and frame_steps(300)[-1] == 300 and len(frame_steps(300)) == 120
    assert frame_steps(10) == list(range(11))
    assert frame_steps(300, 5) == [0, 75, 150, 225, 300]


@pytest.mark.parametrize("kwargs, match", [
    (dict(out_path="x.jpg"), "extension"), (dict(size=(401, 240)), "size"), (dict(fps=0), "fps"),
    (dict(out_path="x.gif", frames=1), "frames"),
])
def test_invalid_render_arguments(result, tmp_path, kwargs, match):
    args = dict(out_path="x.png", size=SMALL)
    args.update(kwargs)
    args["out_path"] = tmp_path / args["out_path"]
    with pytest.raises(ValueError, match=match):
        render(result, **args)
    assert not list(tmp_path.iterdir())


def test_flat_user_surface_renders(tmp_path):
    from optimlab.lab import Surface

    flat = Surface("flat", lambda t: t[..., 0] * 0.0, domain=((-1.0, 1.0), (-1.0, 1.0)), start=(0.5, 0.5),
                   log_levels=True)
    res = race(flat, ["sgd"], steps=5, lrs={"sgd": 0.1}, cache=False)
    out = render(res, tmp_path / "flat.png", size=SMALL)
    with Image.open(out) as im:
        assert im.size == SMALL

"""The gallery builder writes every scene's GIF and PNG and an index with the chosen learning rates."""

from __future__ import annotations

from PIL import Image

from optimlab.lab import gallery


def test_gallery_builds_scenes_and_index(tmp_path):
    written = gallery.build(tmp_path / "g", scenes=("booth",), steps=10)
    assert [p.name for p in written] == ["booth.gif", "booth.png", "index.md"]
    with Image.open(tmp_path / "g" / "booth.gif") as im:
        assert im.n_frames == 11 and im.size == (1000, 600)
    index = (tmp_path / "g" / "index.md").read_text()
    assert "![booth](booth.gif)" in index and index.count("tuned") >= 8
    assert sorted(gallery.SCENES) == sorted(["beale", "long-valley", "saddle", "moons"])

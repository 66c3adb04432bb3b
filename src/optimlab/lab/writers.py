"""Writing frames: PNG and GIF through Pillow, MP4 through the ffmpeg binary shipped by imageio-ffmpeg.

Every writer encodes in memory (MP4: in a scratch folder) and writes with :mod:`optimlab.atomic`, so an
interrupted render never leaves a half-written picture under the final name.
GIF frames share one palette (taken from the final, fullest frame, with one index left free) and are
not dithered, so consecutive frames differ only where something moved; Pillow's ``optimize`` then
writes each frame as its changed rectangle with unchanged pixels transparent, and the file stays small.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Iterable

import numpy as np

from optimlab import atomic


def _encode(save) -> bytes:
    buf = io.BytesIO()
    save(buf)
    return buf.getvalue()


def write_png(out: Path, frame: np.ndarray) -> None:
    from PIL import Image

    atomic.write_bytes(out, _encode(lambda buf: Image.fromarray(frame).save(buf, format="PNG", optimize=True)))


def write_gif(out: Path, palette_frame: np.ndarray, frames: Iterable[np.ndarray], fps: float, hold_s: float) -> int:
    """Write an endlessly looping GIF; the last frame shows for ``hold_s`` seconds. Returns the frame count."""
    from PIL import Image

    palette = Image.fromarray(palette_frame).quantize(colors=255, method=Image.Quantize.MEDIANCUT,
                                                      dither=Image.Dither.NONE)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    frame_ms = int(round(1000 / fps))
    durations = [frame_ms] * len(images)
    durations[-1] = max(frame_ms, int(round(1000 * hold_s)))
    atomic.write_bytes(out, _encode(lambda buf: images[0].save(
        buf, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0, optimize=True,
        disposal=1)))
    return len(images)


def write_mp4(out: Path, frames: Iterable[np.ndarray], size: tuple[int, int], fps: float, hold_s: float) -> int:
    """Write an H.264 MP4 (yuv420p, plays everywhere); the last frame is repeated for ``hold_s`` seconds."""
    import imageio_ffmpeg

    count = 0
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch) / "video.mp4"
        writer = imageio_ffmpeg.write_frames(str(tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                             pix_fmt_out="yuv420p", macro_block_size=1, quality=7,
                                             ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
        writer.send(None)
        last = None
        try:
            for frame in frames:
                writer.send(np.ascontiguousarray(frame))
                last, count = frame, count + 1
            for _ in range(int(round(hold_s * fps))):
                writer.send(np.ascontiguousarray(last))
                count += 1
        finally:
            writer.close()
        atomic.write_bytes(out, tmp.read_bytes())
    return count

"""Animations of a region through the years, made by redes.publish.timeseries from the per-frame tiles and GeoTIFFs:
animated tiles (APNG or animated WebP, frame i = the tile of year i) and a time-lapse MP4 and GIF.

Every frame is shown for `delay_ms` milliseconds and the animations loop. (Pillow merges consecutive identical
frames of a tile into one frame shown for the sum of their delays; the timing is unchanged.)
"""
import io
import os

import imageio.v2 as imageio
import numpy as np
import rasterio
from PIL import Image, ImageDraw
from rasterio.enums import Resampling

from redes.atomic import staged, staging_name, write_atomically
from redes.publish import cog
from redes.publish.stretch import Stretch
from redes.publish.tiles import FORMATS, LINEAR, tile_path

PREVIEW_MAX_SIDE = 1024                        # time-lapse frame size (longest side, pixels)


def write_animated_square(frame_dirs: list[str], directory: str, square, fmt: str, delay_ms: int,
                          overwrite: bool = False) -> tuple[int, int]:
  """The animated tiles of one metatile square (redes.publish.tiles.metatiles), each with the tiles of frame_dirs
  in order as its frames; returns (written, already there)."""
  written = skipped = 0
  for tile in square:
    path = tile_path(directory, tile, fmt)
    if not overwrite and os.path.exists(path):
      skipped += 1
      continue
    frames = [Image.open(tile_path(frame_dir, tile, fmt)).convert("RGBA") for frame_dir in frame_dirs]
    buffer = io.BytesIO()
    frames[0].save(buffer, format=FORMATS[fmt], save_all=True, append_images=frames[1:], duration=delay_ms,
                   loop=0, **({"lossless": True} if fmt == "webp" else {}))
    write_atomically(path, buffer.getvalue())
    written += 1
  return written, skipped


def preview_frame(geotiff: str, label: str, stretch: Stretch | None = None) -> np.ndarray:
  """The whole GeoTIFF as an RGB uint8 image at most PREVIEW_MAX_SIDE pixels wide or high (no-data black, even
  sides for video), drawn through the region's stretch (or tiles.LINEAR), with its label in the top-left
  corner."""
  with rasterio.open(geotiff) as src:
    factor = max(1.0, max(src.width, src.height) / PREVIEW_MAX_SIDE)
    width, height = (max(2, int(side / factor) // 2 * 2) for side in (src.width, src.height))
    data = cog.read_values(src, (1, 2, 3), out_shape=(3, height, width), resampling=Resampling.average)
  rgb = (stretch or LINEAR).to_bytes(data)
  image = Image.fromarray(np.moveaxis(rgb, 0, -1))
  draw = ImageDraw.Draw(image)
  draw.rectangle((0, 0, 8 * len(label) + 10, 20), fill=(0, 0, 0))
  draw.text((5, 4), label, fill=(255, 255, 255))
  return np.asarray(image)


def write_timelapse(geotiffs: list[str], labels: list[str], mp4_path: str, gif_path: str, delay_ms: int,
                    stretch: Stretch | None = None) -> None:
  """An MP4 (H.264) and a GIF of the frames in order, each frame shown delay_ms, each labelled with its year."""
  frames = [preview_frame(path, label, stretch) for path, label in zip(geotiffs, labels)]
  # the writer picks the container by extension
  with staged(mp4_path, staging_name(mp4_path, ".mp4")) as staging, \
      imageio.get_writer(staging, format="FFMPEG", fps=1000.0 / delay_ms, codec="libx264", macro_block_size=2,
                         ffmpeg_log_level="error") as writer:   # not the frame-rate notes ffmpeg prints as warnings
    for frame in frames:
      writer.append_data(frame)
  buffer = io.BytesIO()
  images = [Image.fromarray(frame) for frame in frames]
  images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=delay_ms, loop=0)
  write_atomically(gif_path, buffer.getvalue())

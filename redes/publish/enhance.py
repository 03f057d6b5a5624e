"""Windowed, feathered super-resolution of a georeferenced raster with a served Redes model, in bounded memory.

Used by TileGen and by `redes enhance` / `redes tiles`. The scene is cut into overlapping low-resolution windows,
one row of windows at a time; each window's output is weighted by a ramp that falls towards its edges and the
weighted outputs are averaged, so no seam shows where windows meet. Output rows are written as soon as no later
window touches them, so memory depends on the scene's width and the window size, not on its height. No-data (NaN)
input pixels are filled before inference and set back to NaN on their s x s output pixels, so they never spread.
The output grid is the input grid refined s times: same origin and CRS, pixel size / s (no half-pixel shift).
With `uncertainty`, the Enhancer also runs the model on the 8 flips and rotations of every window and adds one
channel, the per-pixel spread of the 8 outputs (standard deviation, mean over bands, reflectance), which
enhance_geotiff writes as a one-band COG beside the enhanced one.
"""
import contextlib
import logging
import os

import numpy as np
import rasterio
import tensorflow as tf
from rasterio.transform import Affine
from rasterio.windows import Window
from tqdm import tqdm

from redes.bands import check_band_count
from redes.model_info import OUTPUT_KEY, read_model_info
from redes.publish import cog

WINDOW = 128   # low-resolution window side
OVERLAP = 16   # low-resolution pixels shared by neighbouring windows
MAX_BATCH = 16  # windows per model call


def _dihedral(images: np.ndarray, k: int, flip: bool) -> np.ndarray:
  """[n, h, w, c] rotated k quarter turns, then mirrored left-right when flip."""
  turned = np.rot90(images, k, axes=(1, 2))
  return turned[:, :, ::-1] if flip else turned


def _undo_dihedral(images: np.ndarray, k: int, flip: bool) -> np.ndarray:
  return np.rot90(images[:, :, ::-1] if flip else images, -k, axes=(1, 2))


class Enhancer:
  """Loads a Redes SavedModel and applies its `enhance` signature to [n, h, w, bands] arrays; with uncertainty,
  the output has one more channel: the spread over the 8 flips and rotations of the input."""

  def __init__(self, model_dir: str, uncertainty: bool = False):
    self.model_dir = model_dir
    self.info = read_model_info(model_dir)
    self.scale = self.info.scaling_factor
    self.bands = self.info.bands
    self.uncertainty = uncertainty
    self._fn = tf.saved_model.load(model_dir).signatures["enhance"]
    self._key, self._tf = OUTPUT_KEY, tf

  @property
  def out_channels(self) -> int:
    return len(self.bands) + int(self.uncertainty)

  def _enhance(self, lr: np.ndarray) -> np.ndarray:
    return self._fn(lr=self._tf.constant(np.ascontiguousarray(lr), self._tf.float32))[self._key].numpy()

  def __call__(self, lr: np.ndarray) -> np.ndarray:
    if not self.uncertainty:
      return self._enhance(lr)
    outputs = [_undo_dihedral(self._enhance(_dihedral(lr, k, flip)), k, flip) for k in range(4) for flip in (0, 1)]
    spread = np.std(np.stack(outputs), axis=0).mean(axis=-1, keepdims=True)
    return np.concatenate([outputs[0], spread], axis=-1)


def _ramp(length: int, fade: int) -> np.ndarray:
  i = np.arange(length, dtype=np.float32)
  return np.clip(np.minimum(i + 0.5, length - i - 0.5) / max(fade, 1), 1e-3, 1.0)


def _starts(size: int, window: int, step: int) -> list[int]:
  if size <= window:
    return [0]
  starts = list(range(0, size - window, step))
  return starts + [size - window]


def enhanced_strips(read_rows, height: int, width: int, enhancer, window: int = WINDOW, overlap: int = OVERLAP):
  """Yields (first output row, [rows, s*width, bands] float32 with NaN for no-data), top to bottom.

  read_rows(row0, row1) returns input rows row0..row1-1 as [rows, width, bands] reflectance, NaN for no-data."""
  s = enhancer.scale
  ys, xs = _starts(height, window, window - overlap), _starts(width, window, window - overlap)
  win_h, win_w = min(window, height), min(window, width)
  ramp = np.outer(_ramp(win_h * s, overlap * s), _ramp(win_w * s, overlap * s))[..., None]
  total = weight = None
  top = 0                     # output row of the accumulators' first row: always s * y0
  for i, y0 in enumerate(tqdm(ys, desc="enhance", unit="window row", leave=False)):
    rows = read_rows(y0, y0 + win_h)
    if total is None:
      total = np.zeros((win_h * s, width * s, enhancer.out_channels), np.float32)
      weight = np.zeros((win_h * s, width * s, 1), np.float32)
    strip_valid = np.isfinite(rows).all(axis=-1)
    fill = rows[strip_valid].mean(axis=0) if strip_valid.any() else np.zeros(rows.shape[-1], np.float32)
    rows = np.where(strip_valid[..., None], rows, fill).astype(np.float32)
    for b in range(0, len(xs), MAX_BATCH):
      batch_x = xs[b:b + MAX_BATCH]
      sr = enhancer(np.stack([rows[:, x0:x0 + win_w] for x0 in batch_x]))
      for x0, tile in zip(batch_x, sr):
        total[:, x0 * s:(x0 + win_w) * s] += tile * ramp
        weight[:, x0 * s:(x0 + win_w) * s] += ramp
    done = (ys[i + 1] - y0) * s if i + 1 < len(ys) else win_h * s   # rows no later window touches
    yield top, _finish(total[:done], weight[:done], strip_valid[:done // s], s)
    total = np.concatenate([total[done:], np.zeros_like(total[:done])])
    weight = np.concatenate([weight[done:], np.zeros_like(weight[:done])])
    top += done


def _finish(total, weight, valid, s: int) -> np.ndarray:
  out = total / weight
  out[~np.repeat(np.repeat(valid, s, axis=0), s, axis=1)] = np.nan
  return out


def enhance_array(image: np.ndarray, enhancer, window: int = WINDOW, overlap: int = OVERLAP) -> np.ndarray:
  """Super-resolves [h, w, bands] reflectance (NaN: no-data) in memory to [s*h, s*w, bands]."""
  height, width, _ = image.shape
  strips = enhanced_strips(lambda r0, r1: image[r0:r1], height, width, enhancer, window, overlap)
  return np.concatenate([strip for _, strip in strips])


def enhance_geotiff(src_path: str, dst_path: str, enhancer, window: int = WINDOW, overlap: int = OVERLAP,
                    uncertainty_path: str = "") -> dict:
  """Writes the super-resolved Cloud-Optimized GeoTIFF of src_path (same CRS and bounds, pixel size / s), strip
  by strip, to a temporary name that is renamed when complete, and, with an uncertainty Enhancer, the one-band COG
  of the spread at uncertainty_path; returns the enhanced COG's profile."""
  s = enhancer.scale
  os.makedirs(os.path.dirname(os.path.abspath(dst_path)), exist_ok=True)
  with rasterio.open(src_path) as src:
    check_band_count(src_path, src.count, enhancer.bands)
    profile = {**{k: v for k, v in src.profile.items() if k != "predictor"}, **cog.TILED_PROFILE,
               "dtype": "float32", "nodata": np.nan, "count": src.count, "width": src.width * s,
               "height": src.height * s, "transform": src.transform @ Affine.scale(1 / s), "compress": "none"}

    def read_rows(row0, row1):
      data = src.read(window=Window(0, row0, src.width, row1 - row0), masked=True)
      return np.moveaxis(data.astype(np.float32).filled(np.nan), 0, -1)

    if enhancer.uncertainty and not uncertainty_path:
      raise ValueError("an Enhancer with uncertainty needs uncertainty_path, where the spread is written")
    if enhancer.uncertainty:
      os.makedirs(os.path.dirname(os.path.abspath(uncertainty_path)), exist_ok=True)
    logging.info("enhancing %s (%dx%d px) with windows of %d px%s", src_path, src.width, src.height, window,
                 ", and the spread over 8 flips and rotations" if enhancer.uncertainty else "")
    n_bands = len(enhancer.bands)
    with contextlib.ExitStack() as stack:
      stack.enter_context(cog.bounded_cache())
      spread = None
      if enhancer.uncertainty:
        spread = stack.enter_context(rasterio.open(stack.enter_context(cog.writing(uncertainty_path)), "w",
                                                   **{**profile, "count": 1}))
      dst = stack.enter_context(rasterio.open(stack.enter_context(cog.writing(dst_path)), "w", **profile))
      for top, strip in enhanced_strips(read_rows, src.height, src.width, enhancer, window, overlap):
        window_of_strip = Window(0, top, strip.shape[1], strip.shape[0])
        dst.write(np.moveaxis(strip[..., :n_bands], -1, 0), window=window_of_strip)
        if spread is not None:
          spread.write(strip[None, ..., n_bands], window=window_of_strip)
      dst.descriptions = tuple(enhancer.bands)
      if spread is not None:
        spread.descriptions = ("spread over 8 flips and rotations",)
  return profile

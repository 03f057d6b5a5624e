"""Windowed, feathered super-resolution of a georeferenced raster with a served Redes model.

The scene is cut into overlapping low-resolution windows; each window's output is weighted by a ramp that falls
towards its edges and the weighted outputs are averaged, so no seam shows where windows meet. No-data (NaN) input
pixels are filled before inference and set back to NaN on their s x s output pixels, so they never spread.
The output grid is the input grid refined s times: same origin and CRS, pixel size / s (no half-pixel shift).
"""
import logging
import os

import numpy as np
from tqdm import tqdm

WINDOW = 128   # low-resolution window side
OVERLAP = 16   # low-resolution pixels shared by neighbouring windows


class Enhancer:
  """Loads a Redes SavedModel and applies its `enhance` signature to [h, w, bands] arrays."""

  def __init__(self, model_dir: str):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    from models.export import OUTPUT_KEY, read_model_info  # pylint: disable=import-outside-toplevel
    self.info = read_model_info(model_dir)
    self.scale = self.info["scaling_factor"]
    self.bands = self.info["bands"]
    self._fn = tf.saved_model.load(model_dir).signatures["enhance"]
    self._key, self._tf = OUTPUT_KEY, tf

  def __call__(self, lr: np.ndarray) -> np.ndarray:
    return self._fn(lr=self._tf.constant(lr[None], self._tf.float32))[self._key].numpy()[0]


def _ramp(length: int, fade: int) -> np.ndarray:
  i = np.arange(length, dtype=np.float32)
  return np.clip(np.minimum(i + 0.5, length - i - 0.5) / max(fade, 1), 1e-3, 1.0)


def _starts(size: int, window: int, step: int) -> list[int]:
  if size <= window:
    return [0]
  starts = list(range(0, size - window, step))
  return starts + [size - window]


def enhance_array(image: np.ndarray, enhancer, window: int = WINDOW, overlap: int = OVERLAP) -> np.ndarray:
  """Super-resolves [h, w, bands] reflectance (NaN: no-data) to [s*h, s*w, bands], window by window."""
  s = enhancer.scale
  height, width, bands = image.shape
  valid = np.isfinite(image).all(axis=-1)
  fill = np.nanmean(image[valid], axis=0) if valid.any() else np.zeros(bands, np.float32)
  filled = np.where(valid[..., None], image, fill).astype(np.float32)
  total = np.zeros((height * s, width * s, bands), np.float32)
  weight = np.zeros((height * s, width * s, 1), np.float32)
  ys, xs = _starts(height, window, window - overlap), _starts(width, window, window - overlap)
  for y0 in tqdm(ys, desc="enhance rows", unit="row", leave=False):
    for x0 in xs:
      lr = filled[y0:y0 + window, x0:x0 + window]
      sr = enhancer(lr)
      w = np.outer(_ramp(sr.shape[0], overlap * s), _ramp(sr.shape[1], overlap * s))[..., None]
      total[y0 * s:y0 * s + sr.shape[0], x0 * s:x0 * s + sr.shape[1]] += sr * w
      weight[y0 * s:y0 * s + sr.shape[0], x0 * s:x0 * s + sr.shape[1]] += w
  out = total / weight
  out[~np.repeat(np.repeat(valid, s, axis=0), s, axis=1)] = np.nan
  return out


def enhance_geotiff(src_path: str, dst_path: str, enhancer) -> dict:
  """Writes the super-resolved GeoTIFF of src_path (same CRS and bounds, pixel size / s); returns its profile."""
  import rasterio  # pylint: disable=import-outside-toplevel
  from rasterio.transform import Affine  # pylint: disable=import-outside-toplevel
  with rasterio.open(src_path) as src:
    if src.count != len(enhancer.bands):
      raise ValueError(f"{src_path} has {src.count} bands; the model expects {len(enhancer.bands)} "
                       f"({', '.join(enhancer.bands)})")
    image = np.moveaxis(src.read(masked=True).astype(np.float32).filled(np.nan), 0, -1)
    profile = src.profile
  s = enhancer.scale
  logging.info("enhancing %s (%dx%d px) with windows of %d px", src_path, image.shape[1], image.shape[0], WINDOW)
  out = enhance_array(image, enhancer)
  profile.update(driver="GTiff", dtype="float32", nodata=np.nan, width=out.shape[1], height=out.shape[0],
                 transform=profile["transform"] @ Affine.scale(1 / s), compress="deflate", tiled=True,
                 blockxsize=256, blockysize=256, count=out.shape[2])
  os.makedirs(os.path.dirname(os.path.abspath(dst_path)), exist_ok=True)
  tmp = f"{dst_path}.part"
  with rasterio.open(tmp, "w", **profile) as dst:
    dst.write(np.moveaxis(out, -1, 0))
    dst.descriptions = tuple(enhancer.bands)
  os.replace(tmp, dst_path)
  return profile

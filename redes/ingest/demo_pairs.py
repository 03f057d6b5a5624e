"""Training pairs from one real 10 m scene: geographic splits, patch windows, degraded 30 m inputs.

Used by the PatchExampleGen executor for `source=demo`. The scene (cropped to whole patches) is cut into bands of
patch rows: train on top, then eval, then test; no pixel belongs to two splits. Training windows overlap by half a
patch (more distinct crops from the same pixels); eval and test windows do not overlap. Each split's 30 m input is
degraded from that split's own pixels only (see redes.ingest.degradation), so no information crosses a split border.
"""
import dataclasses

import numpy as np
from rasterio.warp import transform as warp

from redes.ingest.degradation import degrade
from redes.ingest.patch_grid import split_patch_rows

@dataclasses.dataclass(frozen=True)
class Patch:
  split: str
  y: int              # top row of the patch in scene pixels (10 m grid)
  x: int              # left column of the patch in scene pixels
  lr: np.ndarray      # [k/s, k/s, bands]
  hr: np.ndarray      # [k, k, bands]
  valid_fraction: float
  center_lon: float
  center_lat: float

  @property
  def patch_id(self) -> str:
    return f"{self.split}/y{self.y:05d}x{self.x:05d}"


def select_windows(top: int, bottom: int, width: int, patch_size: int, stride: int,
                   max_patches: int) -> list[tuple[int, int]]:
  """(y, x) pixel offsets of the patches inside rows top..bottom; at most max_patches (0: all), spread evenly."""
  windows = [(y, x) for y in range(top, bottom - patch_size + 1, stride)
             for x in range(0, width - patch_size + 1, stride)]
  if 0 < max_patches < len(windows):
    windows = [windows[i] for i in np.linspace(0, len(windows) - 1, max_patches).round().astype(int)]
  return windows


def train_stride(patch_size: int, scale: int) -> int:
  """Half a patch, rounded down to whole low-resolution pixels so that every window stays on the 30 m grid."""
  return (patch_size // 2) // scale * scale


def split_windows(height: int, width: int, split: str, patch_size: int, scale: int,
                  max_patches: int = 0) -> list[tuple[int, int]]:
  """(y, x) offsets of a split's patches in a scene of height x width pixels."""
  rows = split_patch_rows(height // patch_size)[split]
  stride = train_stride(patch_size, scale) if split == "train" else patch_size
  return select_windows(rows.start * patch_size, rows.stop * patch_size, width // patch_size * patch_size,
                        patch_size, stride, max_patches)


class SplitPairs:
  """Cuts LR/HR pairs of one split out of a scene; `image` is [H, W, bands] reflectance with NaN for no-data."""

  def __init__(self, image, crs, transform, split: str, patch_size: int, scale: int):
    if patch_size % scale:
      raise ValueError(f"patch_size {patch_size} is not divisible by the scaling factor {scale}")
    self.patch_size, self.scale, self.split = patch_size, scale, split
    self._height, self._width = image.shape[:2]
    rows = split_patch_rows(self._height // patch_size)[split]
    top, bottom = rows.start * patch_size, rows.stop * patch_size
    self._hr = image[top:bottom, :self._width // patch_size * patch_size]
    self._top = top
    self._lr = degrade(np.nan_to_num(self._hr, nan=0.0), scale).numpy()
    self._crs, self._transform = crs, transform

  def windows(self, max_patches: int = 0) -> list[tuple[int, int]]:
    return split_windows(self._height, self._width, self.split, self.patch_size, self.scale, max_patches)

  def patch(self, y: int, x: int) -> Patch:
    k, s = self.patch_size, self.scale
    y0, x0 = y - self._top, x
    hr = self._hr[y0:y0 + k, x0:x0 + k]
    lr = self._lr[y0 // s:(y0 + k) // s, x0 // s:(x0 + k) // s]
    valid = float(np.isfinite(hr).all(axis=-1).mean())
    lon, lat = self._lonlat(y + k / 2, x + k / 2)
    return Patch(self.split, y, x, lr.astype(np.float32), np.nan_to_num(hr, nan=0.0).astype(np.float32),
                 valid, lon, lat)

  def _lonlat(self, y: float, x: float) -> tuple[float, float]:
    east, north = self._transform @ (x, y)
    lons, lats = warp(self._crs, "EPSG:4326", [east], [north])
    return float(lons[0]), float(lats[0])

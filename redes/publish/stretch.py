"""The display stretch of a published region: per band, the 2nd and 98th percentiles of the original frames'
reflectance over every year at once (so every year is drawn alike and frames compare), then a gamma that lifts the
dark land surfaces reflectance imagery is mostly made of. The tiles, animated tiles, videos and GIF of the
original and enhanced layers use it; TileJSON and the manifest record it. redes.publish.timeseries fixes it when a
region is first published and keeps it for the years added later, so their tiles match the old ones and nothing
else is drawn again; `--overwrite` computes it anew over every frame.
"""
import dataclasses

import numpy as np
import rasterio
from rasterio.enums import Resampling

from redes.publish import cog

PERCENTILES = (2.0, 98.0)
GAMMA = 1.4
SAMPLE_SIDE = 1024        # each frame is read at most this many pixels wide or high to find the percentiles


@dataclasses.dataclass(frozen=True)
class Stretch:
  low: tuple[float, ...]      # reflectance drawn black, per band
  high: tuple[float, ...]     # reflectance drawn white, per band
  gamma: float = GAMMA

  def to_bytes(self, reflectance: np.ndarray) -> np.ndarray:
    """[bands, h, w] reflectance (NaN: no data) -> uint8 of the same shape (no data: 0)."""
    low = np.asarray(self.low, np.float32)[:, None, None]
    high = np.asarray(self.high, np.float32)[:, None, None]
    scaled = np.subtract(reflectance, low, dtype=np.float32)   # then in place: a tile's drawing is 5-7 passes
    scaled /= high - low
    np.fmax(scaled, 0.0, out=scaled)                            # NaN (no data) -> 0 too
    np.fmin(scaled, 1.0, out=scaled)
    if self.gamma != 1.0:
      np.power(scaled, np.float32(1.0 / self.gamma), out=scaled)
    scaled *= 255.0
    return np.rint(scaled, out=scaled).astype(np.uint8)

  def record(self) -> dict:
    """What TileJSON and the manifest note of it."""
    return {"percentiles": list(PERCENTILES), "low": list(self.low), "high": list(self.high), "gamma": self.gamma}

  @classmethod
  def from_record(cls, record: dict) -> "Stretch":
    return cls(tuple(record["low"]), tuple(record["high"]), record["gamma"])


def region_stretch(frames: list[str], bands: int = 3) -> Stretch:
  """The stretch of the first `bands` bands of a region's original frames (COGs)."""
  samples = []
  for path in frames:
    with rasterio.open(path) as src:
      factor = max(1.0, max(src.width, src.height) / SAMPLE_SIDE)
      shape = (bands, max(1, int(src.height / factor)), max(1, int(src.width / factor)))
      values = cog.read_values(src, range(1, bands + 1), out_shape=shape, resampling=Resampling.nearest)
    values = values.reshape(bands, -1)
    samples.append(values[:, np.isfinite(values).all(axis=0)])
  pixels = np.concatenate(samples, axis=1)
  if pixels.shape[1] == 0:
    raise ValueError(f"no valid pixel in the frames {', '.join(frames)}; nothing to stretch")
  low, high = np.percentile(pixels, PERCENTILES, axis=1)
  high = np.maximum(high, low + 1e-3)
  return Stretch(tuple(float(v) for v in low), tuple(float(v) for v in high))

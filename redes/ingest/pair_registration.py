"""Sub-pixel registration of real Landsat / Sentinel-2 pairs (earthengine and rasters sources), for the pair cache.

Real pairs are misregistered by fractions of a 30 m pixel. Each pair's shift is estimated by cross-correlation
(scikit-image's phase_cross_correlation without normalisation, upsampled to 1/20 of a pixel, on Hann-windowed band
means) of the 30 m input against the 10 m target degraded to 30 m (redes.ingest.degradation's reference): (dy, dx) in 30
m pixels, the redes.landsat_sensors.Degradation.shift (there in 10 m pixels) that would make the target's degradation
match the input. Pairs shifted by more than a threshold are rejected (redes.ingest.pair_cache counts them); the
distribution of the kept ones is recorded in dataset_params.json.
"""
import numpy as np
from skimage.registration import phase_cross_correlation

from redes.ingest.degradation import degrade

UPSAMPLE = 20          # phase correlation resolution: 1/20 of a 30 m pixel


def _windowed(image: np.ndarray) -> np.ndarray:
  """Band mean, no-data filled by its mean, minus its mean, times a Hann window (no wrap-around edges)."""
  gray = np.nanmean(image, axis=-1)
  gray = np.where(np.isfinite(gray), gray, np.nanmean(gray)).astype(np.float64)
  return (gray - gray.mean()) * np.outer(np.hanning(gray.shape[0]), np.hanning(gray.shape[1]))


def pair_shift(lr: np.ndarray, hr: np.ndarray, scale: int) -> tuple[float, float]:
  """(dy, dx) in 30 m pixels of the input [k/s, k/s, c] against the target [k, k, c] (see the module docstring)."""
  reference = degrade(np.nan_to_num(hr, nan=float(np.nanmean(hr))), scale).numpy()
  shift, _, _ = phase_cross_correlation(_windowed(lr), _windowed(reference), upsample_factor=UPSAMPLE,
                                        normalization=None)
  return -float(shift[0]), -float(shift[1])


def shift_summary(shifts: list[tuple[float, float]]) -> dict:
  """The distribution of shifts (30 m pixels): count, mean dy and dx, and the median, 90th percentile and largest
  magnitude."""
  if not shifts:
    return {"count": 0}
  values = np.asarray(shifts)
  magnitude = np.hypot(values[:, 0], values[:, 1])
  return {"count": len(shifts), "mean_dy": round(float(values[:, 0].mean()), 3),
          "mean_dx": round(float(values[:, 1].mean()), 3), "median": round(float(np.median(magnitude)), 3),
          "p90": round(float(np.percentile(magnitude, 90)), 3), "max": round(float(magnitude.max()), 3)}

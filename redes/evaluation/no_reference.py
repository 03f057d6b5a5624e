"""No-reference checks of a served model on real 30 m frames, for TileGen and `redes tiles` (after publishing),
and whether each frame's sensor is one the model was trained for (redes_model.json's trained_for).

A real Landsat frame has no 10 m truth, so two checks need none:
- consistency: the mean |block mean of the output - the input| (reflectance), how far the enhanced frame averaged
  back to 30 m drifts from what the sensor saw;
- texture_vs_bicubic: the high-frequency energy of the output over bicubic's, on bicubic's flattest pixels
  (redes.evaluation.metrics.texture_energy): well above 1, the model puts texture where the input shows none.
Both are measured on up to SAMPLES windows of SIDE input pixels without no-data, spread evenly over the frame, so
the cost does not grow with the scene.
"""
import numpy as np
import rasterio
import tensorflow as tf
from rasterio.windows import Window

from redes.evaluation.metrics import BORDER, consistency_l1, texture_energy
from redes.landsat_sensors import frame_sensors, outside_training
from redes.model_info import ModelInfo
from redes.publish import cog
from redes.resampling import bicubic_upsample

SAMPLES = 64
SIDE = 16


def _windows(valid: np.ndarray) -> list[tuple[int, int]]:
  """(row, col) of up to SAMPLES SIDE x SIDE windows holding only valid input pixels, spread evenly."""
  height, width = valid.shape
  fits = [(r, c) for r in range(0, height - SIDE + 1, SIDE // 2) for c in range(0, width - SIDE + 1, SIDE // 2)
          if valid[r:r + SIDE, c:c + SIDE].all()]
  if len(fits) > SAMPLES:
    fits = [fits[i] for i in np.linspace(0, len(fits) - 1, SAMPLES).round().astype(int)]
  return fits


def frame_checks(original_path: str, enhanced_path: str, scale: int) -> dict:
  """{"windows", "consistency", "texture_vs_bicubic"} of one frame; {"windows": 0} when no window is valid."""
  with rasterio.open(original_path) as low, rasterio.open(enhanced_path) as high:
    valid = np.isfinite(cog.read_values(low)).all(axis=0)
    windows = _windows(valid)
    if not windows:
      return {"windows": 0}
    lr = np.stack([np.moveaxis(cog.read_values(low, window=Window(c, r, SIDE, SIDE)), 0, -1) for r, c in windows])
    sr = np.stack([np.moveaxis(cog.read_values(high, window=Window(c * scale, r * scale, SIDE * scale, SIDE * scale)),
                               0, -1) for r, c in windows])
  lr, sr = tf.constant(lr, tf.float32), tf.constant(sr, tf.float32)
  bicubic = bicubic_upsample(lr, scale)
  energy = float(tf.reduce_sum(texture_energy(bicubic, sr, BORDER, scale)))
  return {"windows": len(windows),
          "consistency": round(float(tf.reduce_mean(consistency_l1(lr, sr, scale))), 6),
          "texture_vs_bicubic": round(energy / max(float(tf.reduce_sum(texture_energy(bicubic, bicubic, BORDER,
                                                                                     scale))), 1e-12), 3)}


def frame_report(originals: dict, region_dir: str, model_info: ModelInfo, instrument: str) -> dict:
  """{frame label: {"sensors", "outside_training" (a sentence or None), and frame_checks' figures}} of a published
  region (enhanced frames at <region_dir>/enhanced/<label>.tif)."""
  report = {}
  for label, original in sorted(originals.items()):
    sensors = frame_sensors(label, instrument)
    report[label] = {"sensors": list(sensors), "outside_training": outside_training(model_info.trained_for,
                                                                                    sensors),
                     **frame_checks(original, f"{region_dir}/enhanced/{label}.tif", model_info.scaling_factor)}
  return report

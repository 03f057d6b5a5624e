"""No-reference checks on real Landsat 8 pixels: bicubic output is consistent and adds no texture, an output with
invented detail is caught, and a frame's sensor outside the model's training is named."""
import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from redes.evaluation.no_reference import frame_checks, frame_report
from redes.ingest import demo_data
from redes.model_info import ModelInfo


def _write(path, data, transform, crs):
  with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                     dtype="float32", crs=crs, transform=transform, nodata=np.nan) as dst:
    dst.write(data.astype(np.float32))
  return str(path)


def test_consistency_and_invented_texture_without_a_reference(demo_dir, tmp_path):
  import tensorflow as tf
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir)) as src:
    window = rasterio.windows.Window(420, 400, 160, 128)
    crop, crs, transform = src.read(window=window), src.crs, src.window_transform(window)
  original = _write(tmp_path / "original.tif", crop, transform, crs)
  filled = np.nan_to_num(np.moveaxis(crop, 0, -1))[None]
  bicubic = tf.image.resize(filled, (384, 480), method="bicubic").numpy()[0]
  bicubic[np.repeat(np.repeat(~np.isfinite(crop).all(axis=0), 3, 0), 3, 1)] = np.nan
  fine = transform @ Affine.scale(1 / 3)
  plain = frame_checks(original, _write(tmp_path / "bicubic.tif", np.moveaxis(bicubic, -1, 0), fine, crs), 3)
  assert plain["windows"] > 8
  assert plain["texture_vs_bicubic"] == pytest.approx(1.0, abs=0.02) and plain["consistency"] < 0.004
  invented = bicubic + np.random.default_rng(0).normal(0, 0.01, bicubic.shape).astype(np.float32)
  noisy = frame_checks(original, _write(tmp_path / "invented.tif", np.moveaxis(invented, -1, 0), fine, crs), 3)
  assert noisy["texture_vs_bicubic"] > 3.0 and noisy["windows"] == plain["windows"]

  region = tmp_path / "region"
  (region / "enhanced").mkdir(parents=True)
  _write(region / "enhanced" / "1990.tif", np.moveaxis(bicubic, -1, 0), fine, crs)
  info = ModelInfo("residual", ("red", "green", "blue"), 3, 96, {"degradation": "sensors", "sensors": {"oli": {}}})
  report = frame_report({"1990": original}, str(region), info, "landsat")
  assert report["1990"]["sensors"] == ["tm"] and "outside those the model was trained for (oli" in \
      report["1990"]["outside_training"]
  assert report["1990"]["texture_vs_bicubic"] == plain["texture_vs_bicubic"]

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from redes.enhance import Enhancer, enhance_array, enhance_geotiff


@pytest.fixture(scope="module")
def enhancer(bicubic_model_dir):
  return Enhancer(bicubic_model_dir)


def _smooth_image(rng, height, width):
  yy, xx = np.mgrid[0:height, 0:width] / 40.0
  base = 0.15 + 0.05 * np.sin(yy)[..., None] * np.cos(xx)[..., None] * np.array([1.0, 0.8, 0.6])
  return (base + rng.normal(0, 0.002, (height, width, 3))).astype(np.float32)


def test_windowed_result_matches_one_pass_inside(enhancer, rng):
  image = _smooth_image(rng, 300, 260)
  windowed = enhance_array(image, enhancer, window=64, overlap=16)
  whole = enhancer(image)
  assert windowed.shape == (900, 780, 3)
  # Bicubic is local: away from the scene edge, feathered windows must reproduce the one-pass result.
  np.testing.assert_allclose(windowed[12:-12, 12:-12], whole[12:-12, 12:-12], atol=2e-4)


def test_nodata_stays_masked_and_does_not_spread(enhancer, rng):
  image = _smooth_image(rng, 64, 64)
  image[10:14, 20:30] = np.nan
  out = enhance_array(image, enhancer, window=32, overlap=8)
  nan_rows, nan_cols = np.where(np.isnan(out).any(axis=-1))
  assert (nan_rows.min(), nan_rows.max(), nan_cols.min(), nan_cols.max()) == (30, 41, 60, 89)
  assert np.isnan(out).sum() == 12 * 30 * 3


def test_geotiff_keeps_crs_and_bounds_with_a_third_of_the_pixel_size(enhancer, rng, tmp_path):
  src_path, dst_path = tmp_path / "in.tif", tmp_path / "out" / "sr.tif"
  image = _smooth_image(rng, 50, 70)
  with rasterio.open(src_path, "w", driver="GTiff", width=70, height=50, count=3, dtype="float32",
                     crs="EPSG:32616", transform=from_origin(452475.0, 3408645.0, 30.0, 30.0), nodata=np.nan) as dst:
    dst.write(np.moveaxis(image, -1, 0))
  enhance_geotiff(str(src_path), str(dst_path), enhancer)
  with rasterio.open(src_path) as src, rasterio.open(dst_path) as out:
    assert out.crs == src.crs
    assert out.bounds == src.bounds
    assert (out.width, out.height) == (210, 150)
    assert tuple(out.transform)[:6] == (10.0, 0.0, 452475.0, 0.0, -10.0, 3408645.0)
    assert out.descriptions == ("red", "green", "blue")
  assert not list((tmp_path / "out").glob("*.part"))


def test_band_count_mismatch_is_reported(enhancer, tmp_path):
  path = tmp_path / "two.tif"
  with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=2, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(0, 0, 30, 30)) as dst:
    dst.write(np.zeros((2, 8, 8), np.float32))
  with pytest.raises(ValueError, match="has 2 bands; the model expects 3"):
    enhance_geotiff(str(path), str(tmp_path / "o.tif"), enhancer)

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from redes.publish.enhance import Enhancer, enhance_array, enhance_geotiff


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
  whole = enhancer(image[None])[0]
  assert windowed.shape == (900, 780, 3)
  # Bicubic is local: away from the scene edge, feathered windows must reproduce the one-pass result.
  np.testing.assert_allclose(windowed[12:-12, 12:-12], whole[12:-12, 12:-12], atol=2e-4)


class WindowBiased:
  """Bicubic plus an offset that depends on the whole window (like a model's global context): without blending,
  neighbouring windows disagree and a seam shows where they meet."""
  scale, bands, out_channels, uncertainty = 3, ("red", "green", "blue"), 3, False

  def __init__(self, bicubic):
    self._bicubic = bicubic

  def __call__(self, lr):
    return self._bicubic(lr) + 2.0 * lr.mean(axis=(1, 2, 3), keepdims=True)


def _seam_ratio(out, window: int, overlap: int) -> float:
  """Mean |horizontal gradient| on the output columns where a window starts or ends, over the mean elsewhere."""
  gradient = np.nanmean(np.abs(np.diff(out, axis=1)), axis=(0, 2))   # NaN: masked cloud pixels
  width = out.shape[1] // 3
  edges = set()
  for x0 in range(0, width - window, window - overlap):
    edges.update({3 * x0 - 1, 3 * (x0 + window) - 1})
  edges = sorted(e for e in edges if 0 <= e < len(gradient))
  elsewhere = np.delete(gradient, edges)
  return float(gradient[edges].mean() / elsewhere.mean())


def test_no_seam_where_windows_meet(enhancer, demo_dir):
  from redes.ingest import demo_data
  import rasterio as rio
  with rio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir)) as src:
    scene = np.moveaxis(src.read(window=((100, 196), (100, 356))), 0, -1).astype(np.float32)  # real land, 96x256
  biased = WindowBiased(enhancer)
  hard = enhance_array(scene, biased, window=64, overlap=0)
  feathered = enhance_array(scene, biased, window=64, overlap=16)
  assert _seam_ratio(hard, 64, 0) > 1.5               # the check sees a seam when windows are butted together
  assert _seam_ratio(feathered, 64, 16) < 1.1         # feathered blending leaves none
  assert _seam_ratio(enhance_array(scene, enhancer, window=64, overlap=16), 64, 16) < 1.05


def test_strips_come_top_to_bottom_and_cover_every_row_once(enhancer, rng):
  from redes.publish.enhance import enhanced_strips
  image = _smooth_image(rng, 200, 90)
  reads = []

  def read_rows(r0, r1):
    reads.append((r0, r1))
    return image[r0:r1]
  strips = list(enhanced_strips(read_rows, 200, 90, enhancer, window=64, overlap=16))
  tops = [top for top, _ in strips]
  assert tops == [0, 144, 288, 408] and sum(s.shape[0] for _, s in strips) == 600
  assert reads == [(0, 64), (48, 112), (96, 160), (136, 200)]   # only one window row in memory at a time
  assert max(s.shape[0] for _, s in strips) <= 64 * 3


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
  enhance_geotiff(str(src_path), str(dst_path), enhancer, window=32, overlap=8)
  with rasterio.open(src_path) as src, rasterio.open(dst_path) as out:
    assert out.driver == "GTiff" and out.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert out.block_shapes[0] == (256, 256) and out.nodata != out.nodata     # NaN no-data
    assert out.crs == src.crs
    assert out.bounds == src.bounds
    assert (out.width, out.height) == (210, 150)
    assert tuple(out.transform)[:6] == (10.0, 0.0, 452475.0, 0.0, -10.0, 3408645.0)
    assert out.descriptions == ("red", "green", "blue")
    np.testing.assert_allclose(np.moveaxis(out.read(), 0, -1), enhance_array(image, enhancer, 32, 8), atol=1e-6)
  assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sr.tif"]


def test_band_count_mismatch_is_reported(enhancer, tmp_path):
  path = tmp_path / "two.tif"
  with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=2, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(0, 0, 30, 30)) as dst:
    dst.write(np.zeros((2, 8, 8), np.float32))
  with pytest.raises(ValueError, match="has 2 bands; the model expects 3"):
    enhance_geotiff(str(path), str(tmp_path / "o.tif"), enhancer)


def test_a_model_that_commutes_with_flips_and_rotations_has_no_spread(bicubic_model_dir, rng):
  enhancer = Enhancer(bicubic_model_dir, uncertainty=True)
  lr = rng.uniform(0.0, 0.3, (2, 20, 24, 3)).astype(np.float32)
  out = enhancer(lr)
  assert out.shape == (2, 60, 72, 4) and enhancer.out_channels == 4
  np.testing.assert_allclose(out[..., :3], Enhancer(bicubic_model_dir)(lr), atol=1e-6)
  assert float(out[..., 3].max()) < 1e-6                          # bicubic is the same in every orientation

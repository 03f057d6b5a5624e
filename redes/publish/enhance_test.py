import concurrent.futures
import os
import threading
import time

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from redes.publish import cog
from redes.publish import enhance as enhance_module
from redes.publish.blocks import blocks, strips
from redes.publish.cog import assemble
from redes.publish.enhance import Enhancer, enhance_array, enhance_geotiff, enhance_rows, receptive_radius


@pytest.fixture(scope="module")
def enhancer(bicubic_model_dir):
  return Enhancer(bicubic_model_dir)


def _smooth_image(rng, height, width):
  yy, xx = np.mgrid[0:height, 0:width] / 40.0
  base = 0.15 + 0.05 * np.sin(yy)[..., None] * np.cos(xx)[..., None] * np.array([1.0, 0.8, 0.6])
  return (base + rng.normal(0, 0.002, (height, width, 3))).astype(np.float32)


def _smooth_geotiff(path, rng, height, width) -> np.ndarray:
  """Writes a _smooth_image as a 30 m, 3-band float32 GeoTIFF (NaN no-data) at `path`; returns the image."""
  image = _smooth_image(rng, height, width)
  with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=3, dtype="float32",
                     crs="EPSG:32616", transform=from_origin(452475.0, 3408645.0, 30.0, 30.0), nodata=np.nan) as dst:
    dst.write(np.moveaxis(image, -1, 0))
  return image


def test_blocks_reproduce_the_whole_scene_at_once(enhancer, rng):
  image = _smooth_image(rng, 300, 260)
  blocked = enhance_array(image, enhancer, block=64)          # 5 x 5 blocks, the last ones cut by the scene's edge
  whole = enhancer(image[None])[0]
  assert blocked.shape == (900, 780, 3) and enhancer.halo == 2  # bicubic reaches 2 input pixels
  np.testing.assert_allclose(blocked, whole, atol=1e-6)      # edges included: a block's halo stops at the scene's


def test_without_its_halo_a_block_differs_where_blocks_meet(enhancer, rng):
  image = _smooth_image(rng, 128, 128)
  whole = enhancer(image[None])[0]
  error = np.abs(enhance_array(image, enhancer, block=64, halo=0) - whole).max(axis=-1)
  assert error[186:198].max() > 1e-3 and error[:180, :180].max() < 1e-6   # rows 63 and 64 of the input


def _box_blur(radius: int):
  def enhance(lr):
    out = sum(np.roll(lr, (dy, dx), axis=(1, 2)) for dy in range(-radius, radius + 1)
              for dx in range(-radius, radius + 1))
    return np.repeat(np.repeat(out, 3, axis=1), 3, axis=2)
  return enhance


@pytest.mark.parametrize("radius", [0, 1, 5, 12])
def test_the_receptive_radius_is_measured(radius):
  assert receptive_radius(_box_blur(radius), 3, 3) == radius


def test_a_model_that_sees_the_whole_window_is_capped_at_the_probe():
  def global_mean(lr):
    return np.repeat(np.repeat(lr + lr.mean(), 3, axis=1), 3, axis=2)
  assert receptive_radius(global_mean, 3, 3, probe=16) == 16


def test_blocks_cover_the_scene_once_with_their_halo_inside_it():
  plan = blocks(130, 70, 64, 5)
  assert [(b.core.row_off, b.core.col_off, b.core.height, b.core.width) for b in plan] == [
      (0, 0, 64, 64), (0, 64, 64, 6), (64, 0, 64, 64), (64, 64, 64, 6), (128, 0, 2, 64), (128, 64, 2, 6)]
  assert [(b.read.row_off, b.read.col_off, b.read.height, b.read.width) for b in plan] == [
      (0, 0, 69, 69), (0, 59, 69, 11), (59, 0, 71, 69), (59, 59, 71, 11), (123, 0, 7, 69), (123, 59, 7, 11)]


def test_a_block_without_valid_pixels_is_not_sent_to_the_model(rng):
  calls = []

  class Counting:
    scale, bands, out_channels, uncertainty, halo = 3, ("red", "green", "blue"), 3, False, 0

    def __call__(self, lr):
      calls.append(lr.shape)
      return np.repeat(np.repeat(lr, 3, axis=1), 3, axis=2)
  image = _smooth_image(rng, 64, 96)
  image[:, :32] = np.nan
  out = enhance_array(image, Counting(), block=32)
  assert calls == [(1, 32, 32, 3)] * 4                        # 6 blocks, 2 of them all no-data
  assert np.isnan(out[:, :96]).all() and np.isfinite(out[:, 96:]).all()


def test_nodata_stays_masked_and_does_not_spread(enhancer, rng):
  image = _smooth_image(rng, 64, 64)
  image[10:14, 20:30] = np.nan
  out = enhance_array(image, enhancer, block=32)
  nan_rows, nan_cols = np.where(np.isnan(out).any(axis=-1))
  assert (nan_rows.min(), nan_rows.max(), nan_cols.min(), nan_cols.max()) == (30, 41, 60, 89)
  assert np.isnan(out).sum() == 12 * 30 * 3


def test_the_threads_of_a_process_call_the_model_one_at_a_time(bicubic_model_dir, rng):
  enhancer = Enhancer(bicubic_model_dir)
  model, running, most = enhancer._fn, [0], [0]  # pylint: disable=protected-access
  lock = threading.Lock()

  def watched(**inputs):
    with lock:
      running[0] += 1
      most[0] = max(most[0], running[0])
    time.sleep(0.05)                                 # long enough for the other threads to come in
    try:
      return model(**inputs)
    finally:
      with lock:
        running[0] -= 1
  enhancer._fn = watched  # pylint: disable=protected-access
  windows = [_smooth_image(rng, 40, 40)[None] for _ in range(6)]
  with concurrent.futures.ThreadPoolExecutor(3) as threads:
    outputs = list(threads.map(enhancer, windows))
  assert most[0] == 1 and [o.shape for o in outputs] == [(1, 120, 120, 3)] * 6


def test_geotiff_keeps_crs_and_bounds_with_a_third_of_the_pixel_size(enhancer, rng, tmp_path):
  src_path, dst_path = tmp_path / "in.tif", tmp_path / "out" / "sr.tif"
  image = _smooth_geotiff(src_path, rng, 50, 70)
  enhance_geotiff(str(src_path), str(dst_path), enhancer, block=32)
  with rasterio.open(src_path) as src, rasterio.open(dst_path) as out:
    assert out.driver == "GTiff" and out.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert out.block_shapes[0] == (256, 256) and out.dtypes == ("uint16",) * 3 and out.nodata == 0
    assert out.crs == src.crs
    assert out.bounds == src.bounds
    assert (out.width, out.height) == (210, 150)
    assert tuple(out.transform)[:6] == (10.0, 0.0, 452475.0, 0.0, -10.0, 3408645.0)
    assert out.descriptions == ("red", "green", "blue")
    np.testing.assert_allclose(np.moveaxis(cog.read_values(out), 0, -1), enhance_array(image, enhancer, 32), rtol=0,
                               atol=cog.SCALE / 2 + 1e-7)           # stored in steps of 2.75e-5
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


def test_strips_enhanced_apart_assemble_to_the_bytes_of_the_whole_scene(bicubic_model_dir, rng, tmp_path):
  enhancer = Enhancer(bicubic_model_dir, uncertainty=True)
  src_path = tmp_path / "tall.tif"
  _smooth_geotiff(src_path, rng, 1100, 40)
  enhance_geotiff(str(src_path), str(tmp_path / "whole.tif"), enhancer, uncertainty_path=str(tmp_path / "ws.tif"))
  assert strips(1100) == [(0, 1024), (1024, 1100)]
  parts = [part for rows in reversed(strips(1100))            # by two workers, in any order
           for part in enhance_rows(str(src_path), str(tmp_path / "apart.tif"), enhancer, rows,
                                    uncertainty_path=str(tmp_path / "as.tif"))]
  assert [(p.row_off, p.height) for p in parts] == [(3072, 228), (3072, 228), (0, 3072), (0, 3072)]
  assemble([p for p in parts if p.path.endswith("apart.tif")])
  assemble([p for p in parts if p.path.endswith("as.tif")])
  assert (tmp_path / "apart.tif").read_bytes() == (tmp_path / "whole.tif").read_bytes()
  assert (tmp_path / "as.tif").read_bytes() == (tmp_path / "ws.tif").read_bytes()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["apart.tif", "as.tif", "tall.tif", "whole.tif", "ws.tif"]


def _helper_threads() -> set[int]:
  return {t.ident for t in threading.enumerate() if t.name.startswith(("redes-read", "redes-write"))}


def test_a_thread_keeps_its_helpers_from_one_frame_to_the_next(enhancer, rng, tmp_path):
  src_path = tmp_path / "in.tif"
  _smooth_geotiff(src_path, rng, 30, 40)
  enhance_geotiff(str(src_path), str(tmp_path / "a.tif"), enhancer, block=16)     # 3 x 2 blocks
  first = _helper_threads()
  enhance_geotiff(str(src_path), str(tmp_path / "b.tif"), enhancer, block=16)
  assert len(first) >= 2 and _helper_threads() == first
  assert (tmp_path / "a.tif").read_bytes() == (tmp_path / "b.tif").read_bytes()


def test_a_lone_block_is_read_and_written_by_the_calling_thread(enhancer, rng, tmp_path):
  src_path, reads, writes = tmp_path / "in.tif", [], []
  _smooth_geotiff(src_path, rng, 30, 40)
  read, write = cog.read_values, cog.BlockWriter.write
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(cog, "read_values", lambda *a, **k: reads.append(threading.get_ident()) or read(*a, **k))
    patch.setattr(cog.BlockWriter, "write", lambda *a, **k: writes.append(threading.get_ident()) or write(*a, **k))
    enhance_geotiff(str(src_path), str(tmp_path / "lone.tif"), enhancer)
    enhance_geotiff(str(src_path), str(tmp_path / "six.tif"), enhancer, block=16)
  here = threading.get_ident()
  assert len(reads) == len(writes) == 7 and reads[0] == writes[0] == here
  assert here not in reads[1:] + writes[1:]                        # 6 blocks: by the helpers, beside the model


def test_a_forked_child_starts_helpers_of_its_own(enhancer, rng):
  enhance_array(_smooth_image(rng, 20, 20), enhancer, block=8)   # 3 x 3 blocks: the parent's helpers exist
  assert _helper_threads()
  pid = os.fork()
  if pid == 0:                                               # the child: the parent's helper threads are not here
    try:
      os._exit(0 if enhance_module._helper("read").submit(lambda: 7).result(timeout=10) == 7 else 1)
    finally:
      os._exit(1)                                            # never back into the parent's pytest
  assert os.waitpid(pid, 0)[1] == 0

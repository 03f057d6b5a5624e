import contextlib
import os

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

from redes.publish import cog

STEP = cog.SCALE / 2 + 1e-7     # the largest error of a stored value: half a code, and float32's rounding
MEAN_STEP = 2 * STEP            # of an overview's: the mean of the codes (as GDAL's), rounded to a code
PROFILE = {"count": 2, "crs": "EPSG:32616", "transform": from_origin(452475.0, 3408645.0, 10.0, 10.0),
           "width": 1100, "height": 700}


def _cell_means(data: np.ndarray, factor: int) -> np.ndarray:
  """Mean of the valid pixels of each factor x factor cell (NaN where none), computed directly."""
  bands, height, width = data.shape
  out = np.full((bands, -(-height // factor), -(-width // factor)), np.nan, np.float32)
  for row in range(out.shape[1]):
    for col in range(out.shape[2]):
      cell = data[:, row * factor:(row + 1) * factor, col * factor:(col + 1) * factor]
      valid = np.isfinite(cell).all(axis=0)
      if valid.any():
        out[:, row, col] = cell[:, valid].mean(axis=1)
  return out


def test_overviews_built_block_by_block_are_the_means_of_valid_pixels(rng, tmp_path):
  data = rng.uniform(0.0, 0.3, (2, 700, 1100)).astype(np.float32)
  data[:, 100:357, 600:1013] = np.nan                     # no-data across two blocks, cut mid-cell
  path = tmp_path / "out" / "frame.tif"
  with cog.writing(str(path), PROFILE, ("red", "nir")) as raster:
    assert raster.factors == [2, 4, 8]
    for row in range(0, 700, 512):
      for col in range(0, 1100, 512):
        raster.write(data[:, row:row + 512, col:col + 512], Window(col, row, min(512, 1100 - col), min(512, 700 - row)))
  with rasterio.open(path) as out:
    assert out.tags(ns="IMAGE_STRUCTURE") == {"LAYOUT": "COG", "COMPRESSION": "ZSTD", "INTERLEAVE": "PIXEL",
                                              "PREDICTOR": "2"}
    assert out.overviews(1) == [2, 4, 8] and out.descriptions == ("red", "nir")
    assert out.crs == "EPSG:32616" and out.transform == PROFILE["transform"]
    assert out.dtypes == ("uint16", "uint16") and out.nodata == 0
    assert out.scales == (2.75e-5, 2.75e-5) and out.offsets == (-0.2, -0.2)
    np.testing.assert_array_equal(out.read(), cog.encoded(data))        # the codes, losslessly compressed
    np.testing.assert_allclose(cog.read_values(out), data, rtol=0, atol=STEP)   # NaN where NaN was written
    for factor in (2, 8):
      overview = cog.read_values(out, out_shape=(2, -(-700 // factor), -(-1100 // factor)))
      np.testing.assert_allclose(overview, _cell_means(data, factor), rtol=0, atol=MEAN_STEP)
  assert sorted(p.name for p in path.parent.iterdir()) == ["frame.tif"]


def test_values_are_stored_as_landsat_collection_2_codes_and_read_back_as_float32():
  values = np.array([[[-0.2, 0.0, 0.1234567, 1.602, -1.0, 2.0, np.nan, np.inf]]], np.float32)
  np.testing.assert_array_equal(cog.encoded(values), [[[1, 7273, 11762, 65527, 1, 65535, 0, 65535]]])
  codes = cog.encoded(values[..., 1:4])            # -0.2 itself is code 1: 0 is no-data
  np.testing.assert_allclose(codes * np.float32(cog.SCALE) + np.float32(cog.OFFSET), values[..., 1:4], rtol=0,
                             atol=STEP)


def test_read_values_applies_a_rasters_scale_and_offset_and_masks_its_nodata(tmp_path):
  path = tmp_path / "dn.tif"
  with rasterio.open(path, "w", driver="GTiff", width=3, height=1, count=1, dtype="uint16", nodata=0) as dst:
    dst.write(np.array([[[0, 10000, 20000]]], np.uint16))
    dst.scales, dst.offsets = (1e-4,), (0.1,)
  with rasterio.open(path) as src:
    np.testing.assert_allclose(cog.read_values(src), [[[np.nan, 1.1, 2.1]]], rtol=1e-6)
    assert cog.read_values(src).dtype == np.float32


def test_a_block_off_the_overview_grid_is_refused_and_nothing_is_left(tmp_path):
  path = tmp_path / "frame.tif"
  with pytest.raises(ValueError, match=r"block at \(100, 0\) is not aligned to the overview factor 8"):
    with cog.writing(str(path), PROFILE) as raster:
      raster.write(np.zeros((2, 64, 64), np.float32), Window(100, 0, 64, 64))
  assert not list(tmp_path.iterdir())


def test_overview_levels_stop_when_one_block_holds_the_raster():
  assert cog.overview_factors(256, 100) == [] and cog.overview_factors(257, 10) == [2]
  assert cog.overview_factors(4002, 4002) == [2, 4, 8, 16]


def test_overview_levels_stop_where_the_writers_blocks_would_cut_a_cell(rng, tmp_path):
  # enhancement's blocks start at multiples of 512 x 3 = 1536 px: a 1024x overview would cut a cell in two
  assert cog.overview_factors(400_000, 10) == [2 ** k for k in range(1, 12)]
  assert cog.overview_factors(400_000, 10, align=1536) == [2 ** k for k in range(1, 10)]
  data = rng.uniform(0.0, 0.3, (2, 700, 1100)).astype(np.float32)
  path = tmp_path / "frame.tif"
  with cog.part_writing(str(path), PROFILE, align=12) as raster:   # 8 does not divide 12
    assert raster.factors == [2, 4]
    for row in range(0, 700, 240):
      for col in range(0, 1100, 360):
        raster.write(data[:, row:row + 240, col:col + 360], Window(col, row, min(360, 1100 - col), min(240, 700 - row)))
  cog.assemble([raster.part])
  with rasterio.open(path) as out:
    assert out.overviews(1) == [2, 4]                     # GDAL adds no level of its own
    np.testing.assert_allclose(cog.read_values(out, out_shape=(2, 175, 275)), _cell_means(data, 4), rtol=0,
                               atol=MEAN_STEP)
  assert sorted(p.name for p in tmp_path.iterdir()) == ["frame.tif"]


def test_where_the_writers_blocks_allow_no_level_gdal_averages_the_overviews(rng, tmp_path):
  data = rng.uniform(0.0, 0.3, (2, 700, 1100)).astype(np.float32)
  path = tmp_path / "frame.tif"
  with cog.part_writing(str(path), PROFILE, align=999) as raster:   # an odd step: not even a 2x cell is whole
    assert raster.factors == []
    for col in (0, 999):
      raster.write(data[:, :, col:col + 999], Window(col, 0, min(999, 1100 - col), 700))
  cog.assemble([raster.part])
  with rasterio.open(path) as out:
    assert out.overviews(1) == [2, 4, 8]
    np.testing.assert_allclose(cog.read_values(out, out_shape=(2, 350, 550)), _cell_means(data, 2), rtol=0,
                               atol=MEAN_STEP)


def test_the_write_cache_is_64_mib_while_any_thread_writes_and_what_it_was_after_the_last():
  # rasterio hands an integer GDAL_CACHEMAX to GDALSetCacheMax64, in bytes: a 64 there was a 64-byte cache, under
  # which GDAL decoded every block again and the process kept it, tiling at half speed after an enhancement.
  before = rasterio.env.get_gdal_config("GDAL_CACHEMAX")
  assert before > 64 * 1024 * 1024                       # GDAL's default: 5 % of the memory
  with rasterio.Env():                                   # nested in another Env, as inside a reader's
    with contextlib.ExitStack() as first, contextlib.ExitStack() as second:
      first.enter_context(cog.bounded_cache())
      assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == 64 * 1024 * 1024
      second.enter_context(cog.bounded_cache())          # another thread's COG
      first.close()
      assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == 64 * 1024 * 1024   # still being written
    assert rasterio.env.get_gdal_config("GDAL_CACHEMAX") == before


def _write_blocks(writer, data: np.ndarray, rows: range) -> None:
  for row in rows:
    for col in range(0, data.shape[2], 512):
      window = Window(col, row, min(512, data.shape[2] - col), min(512, data.shape[1] - row))
      writer.write(data[:, row:row + 512, col:col + 512], window)


def test_parts_written_apart_assemble_to_the_bytes_of_one_writer(rng, tmp_path):
  data = rng.uniform(0.0, 0.3, (2, 1300, 1100)).astype(np.float32)
  data[:, 400:700, 100:300] = np.nan
  with cog.writing(str(tmp_path / "one.tif"), PROFILE | {"height": 1300}, ("red", "nir")) as raster:
    _write_blocks(raster, data, range(0, 1300, 512))
  path, parts = str(tmp_path / "parts.tif"), []
  for rows in [(1024, 1300), (0, 1024)]:                    # written apart, in any order
    with cog.part_writing(path, PROFILE | {"height": 1300}, ("red", "nir"), rows) as raster:
      _write_blocks(raster, data, range(rows[0], rows[1], 512))
    parts.append(raster.part)
  assert len({p.raster for p in parts}) == 2 and all(os.path.exists(f) for p in parts for f in p.files)
  cog.assemble(parts)
  assert (tmp_path / "parts.tif").read_bytes() == (tmp_path / "one.tif").read_bytes()
  assert sorted(p.name for p in tmp_path.iterdir()) == ["one.tif", "parts.tif"]          # the parts are gone


def test_parts_off_the_overview_grid_or_not_covering_the_raster_are_refused(rng, tmp_path):
  path = str(tmp_path / "frame.tif")
  with pytest.raises(ValueError, match="rows 100 to 700 are not aligned to the overview factor 8"):
    with cog.part_writing(path, PROFILE, rows=(100, 700)):
      pass
  with cog.part_writing(path, PROFILE, rows=(0, 512)) as raster:
    _write_blocks(raster, rng.uniform(0.0, 0.3, (2, 700, 1100)).astype(np.float32), range(0, 512, 512))
  with pytest.raises(ValueError, match=r"do not cover its 700 rows once: \[\(0, 512\)\]"):
    cog.assemble([raster.part])
  assert not list(tmp_path.iterdir())


def test_a_pixel_without_a_value_in_one_band_is_no_data_in_all_and_an_empty_block_is_left_to_gdal(rng, tmp_path):
  data = rng.uniform(0.0, 0.3, (2, 700, 1100)).astype(np.float32)
  data[1, 10, 20] = np.nan                                 # one band only
  path = tmp_path / "frame.tif"
  with cog.writing(str(path), PROFILE) as raster:
    raster.write(data[:, :512], Window(0, 0, 1100, 512))
    raster.write(data[:, 512:], Window(0, 512, 1100, 188), valid=np.zeros((188, 1100), bool))   # skipped
  with rasterio.open(path) as out:
    codes = out.read()
    assert (codes[:, 10, 20] == 0).all() and (codes[:, 512:] == 0).all()
    assert (codes[:, :512] > 0).sum() == 2 * (512 * 1100 - 1)
    assert np.isnan(cog.read_values(out, out_shape=(2, 350, 550))[:, 256:]).all()   # the 2x overview has no value there
    np.testing.assert_allclose(cog.read_values(out, out_shape=(2, 350, 550))[:, 5, 10],
                               data[:, 10:12, 20:22].reshape(2, 4)[:, 1:].mean(axis=1), rtol=0, atol=MEAN_STEP)

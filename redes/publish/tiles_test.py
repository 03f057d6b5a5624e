import io

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin
from rio_tiler.colormap import cmap
from rio_tiler.models import ImageData

from redes.publish.tiles import (METATILE, PyramidJob, encoded, geographic_bounds, metatiles, tiles_for,
                                 write_metatile)


def _write_pyramid(geotiff, directory, min_z: int, max_z: int):
  """(bounds, tiles written, tiles already there) of writing every square of the pyramid, one after the other."""
  bounds = geographic_bounds(str(geotiff))
  job = PyramidJob(str(geotiff), str(directory), "png", False, None)
  counts = [write_metatile(job, square) for square in metatiles(tiles_for(bounds, min_z, max_z))]
  return bounds, sum(c[0] for c in counts), sum(c[1] for c in counts)


def test_pyramid_covers_the_raster_with_256_px_tiles(tmp_path, rng):
  path = tmp_path / "scene.tif"
  data = rng.uniform(0.0, 0.3, (3, 300, 400)).astype(np.float32)
  data[:, :50, :50] = np.nan
  with rasterio.open(path, "w", driver="GTiff", width=400, height=300, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 10.0, 10.0), nodata=np.nan) as dst:
    dst.write(data)
  bounds, written, _ = _write_pyramid(path, tmp_path / "tiles", 11, 14)
  expected = tiles_for(bounds, 11, 14)
  assert written == len(expected) == len(list((tmp_path / "tiles").rglob("*.png")))
  assert {t.z for t in expected} == {11, 12, 13, 14}
  west, south, east, north = bounds
  assert -88.0 < west < east < -87.0 and 30.0 < south < north < 31.0
  tile = expected[-1]
  png = Image.open(io.BytesIO((tmp_path / "tiles" / str(tile.z) / str(tile.x) / f"{tile.y}.png").read_bytes()))
  assert png.size == (256, 256) and png.mode in ("RGBA", "LA")
  assert not list((tmp_path / "tiles").rglob("*.part"))


def test_a_square_comes_out_the_same_whichever_of_its_tiles_remain_and_a_rerun_writes_nothing(tmp_path, rng):
  path = tmp_path / "scene.tif"
  data = rng.uniform(0.0, 0.3, (3, 600, 700)).astype(np.float32)
  with rasterio.open(path, "w", driver="GTiff", width=700, height=600, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 10.0, 10.0), nodata=np.nan) as dst:
    dst.write(data)
  bounds, written, _ = _write_pyramid(path, tmp_path / "tiles", 12, 16)
  tiles = sorted((tmp_path / "tiles").rglob("*.png"))
  assert written == len(tiles) == len(tiles_for(bounds, 12, 16)) > 2 * METATILE ** 2
  before = {p: p.read_bytes() for p in tiles}
  removed = tiles[::7]                     # tiles of many squares, each square then partly there
  for p in removed:
    p.unlink()
  assert _write_pyramid(path, tmp_path / "tiles", 12, 16)[1:] == (len(removed), len(tiles) - len(removed))
  assert all(p.read_bytes() == before[p] for p in tiles)
  assert _write_pyramid(path, tmp_path / "tiles", 12, 16)[1:] == (0, len(tiles))


@pytest.mark.parametrize("fmt", ["png", "webp"])
def test_tiles_encoded_by_pillow_have_the_pixels_of_rio_tilers_gdal_render(fmt, rng):
  data, mask = (rng.uniform(0, 1, (3, 256, 256)) * 255).astype(np.uint8), np.zeros((3, 256, 256), bool)
  mask[:, :, :40] = True                                        # no-data: transparent
  rgb, spread = np.ma.MaskedArray(data, mask), np.ma.MaskedArray(data[:1], mask[:1])
  for image, colormap in [(ImageData(rgb), None), (ImageData(spread), cmap.get("magma"))]:
    ours = np.asarray(Image.open(io.BytesIO(encoded(image, colormap, fmt))).convert("RGBA"))
    theirs = np.asarray(Image.open(io.BytesIO(image.render(img_format=fmt.upper(), colormap=colormap))).convert("RGBA"))
    assert ours.shape == (256, 256, 4) and (ours[:, :40, 3] == 0).all() and (ours[:, 40:, 3] == 255).all()
    np.testing.assert_array_equal(ours, theirs)

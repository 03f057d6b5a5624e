import io

import numpy as np
import rasterio
from PIL import Image
from rasterio.transform import from_origin

from redes.publish.tiles import METATILE, tiles_for, write_pyramid


def test_pyramid_covers_the_raster_with_256_px_tiles(tmp_path, rng):
  path = tmp_path / "scene.tif"
  data = rng.uniform(0.0, 0.3, (3, 300, 400)).astype(np.float32)
  data[:, :50, :50] = np.nan
  with rasterio.open(path, "w", driver="GTiff", width=400, height=300, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 10.0, 10.0), nodata=np.nan) as dst:
    dst.write(data)
  pyramid = write_pyramid(str(path), str(tmp_path / "tiles"), 11, 14)
  expected = tiles_for(pyramid.bounds, 11, 14)
  assert pyramid.count == len(expected) == len(list((tmp_path / "tiles").rglob("*.png")))
  assert {t.z for t in expected} == {11, 12, 13, 14}
  west, south, east, north = pyramid.bounds
  assert -88.0 < west < east < -87.0 and 30.0 < south < north < 31.0
  tile = expected[-1]
  png = Image.open(io.BytesIO((tmp_path / "tiles" / str(tile.z) / str(tile.x) / f"{tile.y}.png").read_bytes()))
  assert png.size == (256, 256) and png.mode in ("RGBA", "LA")
  assert not list((tmp_path / "tiles").rglob("*.part"))


def test_one_worker_and_two_write_the_same_bytes_and_a_rerun_writes_nothing(tmp_path, rng):
  path = tmp_path / "scene.tif"
  data = rng.uniform(0.0, 0.3, (3, 600, 700)).astype(np.float32)
  with rasterio.open(path, "w", driver="GTiff", width=700, height=600, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 10.0, 10.0), nodata=np.nan) as dst:
    dst.write(data)
  one = write_pyramid(str(path), str(tmp_path / "one"), 12, 16, workers=1)
  two = write_pyramid(str(path), str(tmp_path / "two"), 12, 16, workers=2)
  tiles = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*.png"))
  assert one.written == two.written == len(tiles) == len(tiles_for(one.bounds, 12, 16)) > 2 * METATILE ** 2
  assert tiles == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*.png"))
  assert all((tmp_path / "one" / t).read_bytes() == (tmp_path / "two" / t).read_bytes() for t in tiles)
  again = write_pyramid(str(path), str(tmp_path / "two"), 12, 16, workers=2)
  assert (again.written, again.skipped) == (0, len(tiles))

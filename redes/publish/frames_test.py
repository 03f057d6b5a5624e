import numpy as np
import rasterio
from rasterio.transform import from_origin

from redes.publish import cog
from redes.publish.frames import local_frames
from redes.publish.grid import Grid, write_cog

GRID = Grid("EPSG:32616", from_origin(452475.0, 3408645.0, 30.0, 30.0), 40, 30)


def test_a_redes_cog_as_a_frame_is_read_as_the_reflectance_it_stores(rng, tmp_path):
  reflectance = rng.uniform(0.0, 0.3, (3, 30, 40)).astype(np.float32)
  reflectance[:, :5, :5] = np.nan
  published = write_cog(str(tmp_path / "published.tif"), reflectance, GRID)
  frames, skipped = local_frames({"2019": published}, GRID, str(tmp_path / "original"), ("red", "green", "blue"))
  assert not skipped
  with rasterio.open(frames["2019"]) as frame:
    np.testing.assert_allclose(cog.read_values(frame), reflectance, rtol=0, atol=2 * cog.SCALE)   # NaN kept
  frames, _ = local_frames({"2019": published}, GRID, str(tmp_path / "halved"), ("red", "green", "blue"), 0.5, 0.01)
  with rasterio.open(frames["2019"]) as frame:               # the DN flags apply on top of the raster's own scale
    np.testing.assert_allclose(cog.read_values(frame), reflectance * 0.5 + 0.01, rtol=0, atol=2 * cog.SCALE)

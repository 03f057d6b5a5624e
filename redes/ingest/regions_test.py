import json
import os

import pytest

from redes.ingest.regions import RegionError, read_polygons

REGIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "regions")


def test_the_original_split_has_disjoint_rectangles():
  splits = {s: read_polygons(os.path.join(REGIONS, f"{s}.geojson")) for s in ("train", "eval", "test")}
  assert {s: len(p) for s, p in splits.items()} == {"train": 24, "eval": 6, "test": 2}
  for a, b in (("train", "eval"), ("train", "test"), ("eval", "test")):
    assert not any(p.intersects(q) for p in splits[a] for q in splits[b])


def _write(tmp_path, data):
  path = tmp_path / "region.geojson"
  path.write_text(data if isinstance(data, str) else json.dumps(data))
  return str(path)


@pytest.mark.parametrize("data, message", [
    ("{not json", "invalid GeoJSON"),
    ({"type": "Topology"}, r"not GeoJSON \(type 'Topology'\)"),
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}},
     "feature 0 is a Point; expected a Polygon or MultiPolygon"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}, "not a valid polygon"),
    ({"type": "Polygon", "coordinates": [[[500000, 0], [500100, 0], [500100, 100], [500000, 0]]]},
     "are not WGS84 longitude/latitude"),
])
def test_bad_region_files_are_named_with_the_reason(tmp_path, data, message):
  path = _write(tmp_path, data)
  with pytest.raises(RegionError, match=message) as err:
    read_polygons(path)
  assert path in str(err.value)


def test_multipolygon_counts_as_its_polygons(tmp_path):
  square = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
  shifted = [[[2, 0], [3, 0], [3, 1], [2, 1], [2, 0]]]
  assert len(read_polygons(_write(tmp_path, {"type": "MultiPolygon", "coordinates": [square, shifted]}))) == 2

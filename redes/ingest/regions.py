"""Region files: one GeoJSON per split (train / eval / test), each a set of WGS84 polygons.

Accepted: a FeatureCollection, a Feature or a bare geometry, of Polygon or MultiPolygon geometries (a
MultiPolygon counts as its polygons). Anything else is rejected with an error naming the file and the feature.
"""
import json
import os

from shapely.geometry import shape


class RegionError(ValueError):
  """A region file that cannot be used; the message names the file, the feature and what is expected."""


def _geometries(data, path):
  kind = data.get("type") if isinstance(data, dict) else None
  if kind == "FeatureCollection":
    features = data.get("features")
    if not isinstance(features, list):
      raise RegionError(f"{path}: FeatureCollection without a 'features' list")
    return [(f"feature {i}", (f or {}).get("geometry")) for i, f in enumerate(features)]
  if kind == "Feature":
    return [("feature 0", data.get("geometry"))]
  if kind in ("Polygon", "MultiPolygon", "Point", "MultiPoint", "LineString", "MultiLineString",
              "GeometryCollection"):
    return [("geometry", data)]
  raise RegionError(f"{path}: not GeoJSON (type {kind!r}); expected a FeatureCollection, Feature or Polygon")


def _read_text(path: str) -> str:
  """The file's text; gs:// paths through TensorFlow's file system (region files of cluster runs)."""
  if path.startswith("gs://"):
    # pylint: disable-next=import-outside-toplevel  (TensorFlow takes seconds to load; the flags import this module)
    import tensorflow as tf
    if not tf.io.gfile.exists(path):
      raise RegionError(f"{path}: no such region file")
    with tf.io.gfile.GFile(path, "rb") as f:
      return f.read().decode("utf-8")
  if not os.path.isfile(path):
    raise RegionError(f"{path}: no such region file")
  with open(path, "rb") as f:
    return f.read().decode("utf-8")


def read_polygons(path: str) -> list:
  """WGS84 shapely polygons of a region file (local or gs://), in file order."""
  try:
    data = json.loads(_read_text(path))
  except (json.JSONDecodeError, UnicodeDecodeError) as err:
    raise RegionError(f"{path}: invalid GeoJSON ({err})") from None
  polygons = []
  for where, geometry in _geometries(data, path):
    kind = (geometry or {}).get("type")
    if kind not in ("Polygon", "MultiPolygon"):
      raise RegionError(f"{path}: {where} is a {kind or 'missing geometry'}; expected a Polygon or MultiPolygon")
    try:
      shp = shape(geometry)
    except Exception as err:  # pylint: disable=broad-except  (shapely raises several types on bad coordinates)
      raise RegionError(f"{path}: {where} has invalid coordinates ({err})") from None
    west, south, east, north = shp.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
      raise RegionError(f"{path}: {where} bounds {shp.bounds} are not WGS84 longitude/latitude")
    if not shp.is_valid or shp.is_empty:
      raise RegionError(f"{path}: {where} is not a valid polygon (self-intersecting or empty)")
    polygons.extend(shp.geoms if kind == "MultiPolygon" else [shp])
  if not polygons:
    raise RegionError(f"{path}: no polygons")
  return polygons

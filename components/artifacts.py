"""Artifact types Redes adds to TFX's standard ones."""
from tfx.types.artifact import Artifact


class TileSet(Artifact):
  """A region's super-resolved GeoTIFFs, XYZ tile pyramids per layer and frame, and its HTML viewer.

  Custom properties: tile_count, region_dir, viewer, enhanced_geotiff (empty when the model was not pushed).
  """
  TYPE_NAME = "components.TileSet"


class Figure(Artifact):
  """A PNG figure; custom property `path` is the file."""
  TYPE_NAME = "components.Figure"

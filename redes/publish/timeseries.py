"""Publishes a region's yearly frames: the one way TileGen and `redes tiles` turn frames into the end product.

Given the original frames (redes.publish.frames: one COG per year on one grid) and a served model, it writes under
`<region_dir>/`:
  original/<year>.tif, enhanced/<year>.tif         Cloud-Optimized GeoTIFFs (enhanced: pixel size / scale)
  <layer>/<year>/{z}/{x}/{y}.<ext>                 XYZ tiles of each frame (ext: png or webp)
  <layer>/animated/{z}/{x}/{y}.<ext>               animated tiles, frame i = year i (APNG or animated WebP)
  <layer>/<year>/tilejson.json, <layer>/animated/tilejson.json
  <layer>.mp4, <layer>.gif                         time-lapse of the region
  uncertainty/<year>.tif, uncertainty/...          with an uncertainty Enhancer: the spread of the outputs over
                                                   the 8 flips and rotations, as a COG and a colour-mapped layer
  index.html, leaflet/                             the viewer (year slider, play, swipe, uncertainty overlay)
Existing outputs are kept (a re-run finishes an interrupted one) unless `overwrite`.
"""
import dataclasses
import logging
import os

from redes.publish import animation, tiles
from redes.publish.enhance import enhance_geotiff
from redes.publish.viewer import write_viewer

LAYERS = ("original", "enhanced")
UNCERTAINTY = "uncertainty"


@dataclasses.dataclass(frozen=True)
class Publication:
  frames: list[str]
  skipped: dict[str, str]
  tiles_written: int
  tiles_skipped: int
  viewer: str

  @property
  def tile_count(self) -> int:
    return self.tiles_written + self.tiles_skipped


def publish(originals: dict[str, str], enhancer, region_dir: str, region_name: str, min_z: int, max_z: int,
            fmt: str = "png", delay_ms: int = 1000, overwrite: bool = False, skipped=None) -> Publication:
  """originals: {frame label (year): original COG}, in any order (frames are published in label order)."""
  if not originals:
    raise ValueError(f"no frame to publish for region {region_name!r}: every year was skipped "
                     f"({'; '.join(f'{k}: {v}' for k, v in (skipped or {}).items()) or 'no years given'})")
  labels = sorted(originals)
  layer_paths = {"original": [originals[label] for label in labels], "enhanced": []}
  if enhancer.uncertainty:
    layer_paths[UNCERTAINTY] = []
  for label in labels:
    enhanced = os.path.join(region_dir, "enhanced", f"{label}.tif")
    spread = os.path.join(region_dir, UNCERTAINTY, f"{label}.tif")
    if overwrite or not os.path.exists(enhanced) or (enhancer.uncertainty and not os.path.exists(spread)):
      enhance_geotiff(originals[label], enhanced, enhancer, uncertainty_path=spread if enhancer.uncertainty else "")
    layer_paths["enhanced"].append(enhanced)
    if enhancer.uncertainty:
      layer_paths[UNCERTAINTY].append(spread)
  bounds = tiles.geographic_bounds(layer_paths["original"][0])
  written = skipped_tiles = 0
  for layer, paths in layer_paths.items():
    frame_dirs = []
    for label, path in zip(labels, paths):
      frame_dir = os.path.join(region_dir, layer, label)
      pyramid = tiles.write_pyramid(path, frame_dir, min_z, max_z, fmt, overwrite, bounds)
      written, skipped_tiles = written + pyramid.written, skipped_tiles + pyramid.skipped
      tiles.write_tilejson(os.path.join(frame_dir, "tilejson.json"), f"{region_name} {layer} {label}",
                           f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z, f"{layer} reflectance, {label}")
      frame_dirs.append(frame_dir)
    animated_dir = os.path.join(region_dir, layer, "animated")
    done, kept = animation.write_animated_tiles(frame_dirs, animated_dir, bounds, min_z, max_z, fmt, delay_ms,
                                                overwrite)
    written, skipped_tiles = written + done, skipped_tiles + kept
    tiles.write_tilejson(os.path.join(animated_dir, "tilejson.json"), f"{region_name} {layer} animated",
                         f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z,
                         f"{layer} reflectance, frames {', '.join(labels)}, {delay_ms} ms each")
    if layer != UNCERTAINTY:
      animation.write_timelapse(paths, labels, os.path.join(region_dir, f"{layer}.mp4"),
                                os.path.join(region_dir, f"{layer}.gif"), delay_ms)
  viewer = write_viewer(region_dir, region_name, list(layer_paths), labels, bounds, min_z, max_z, fmt, delay_ms)
  logging.info("published %d frames of %s: %d tiles written, %d already there; viewer %s", len(labels),
               region_name, written, skipped_tiles, viewer)
  return Publication(labels, dict(skipped or {}), written, skipped_tiles, viewer)

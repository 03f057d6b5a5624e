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
  stac/collection.json, stac/<region>-<year>/      a STAC Collection: an Item per year, its COGs, and an Item of
  stac/<region>-model/                             the model (STAC MLM) (redes.publish.stac)
  manifest.json                                    what each output was made from (redes.publish.manifest) and
                                                   the region's display stretch (redes.publish.stretch)
A re-run rebuilds exactly what is stale: a frame whose pixels changed, every enhanced frame when the model changed,
the tiles of changed frames or of changed tile settings, the animations and videos when a frame was added, removed
or changed; the outputs of a year no longer given are removed. Everything else is kept; what an interrupted run
left unfinished is rebuilt. `overwrite` rebuilds everything.
"""
import dataclasses
import logging
import os
import shutil

from redes.publish import animation, tiles
from redes.publish.enhance import enhance_geotiff
from redes.publish.manifest import Manifest, digest, model_identity, raster_digest
from redes.publish.stac import ModelRecord, write_catalog
from redes.publish.stretch import Stretch, region_stretch
from redes.publish.viewer import write_viewer

LAYERS = ("original", "enhanced")
UNCERTAINTY = "uncertainty"
STRETCH = "stretch"          # the manifest's record of the region's display stretch


@dataclasses.dataclass(frozen=True)
class Publication:
  frames: list[str]
  skipped: dict[str, str]
  tiles_written: int
  tiles_skipped: int
  viewer: str
  frames_enhanced: int         # enhanced by this call (the others were fresh)

  @property
  def tile_count(self) -> int:
    return self.tiles_written + self.tiles_skipped


def _tiles_of(manifest: Manifest, key: str, inputs: str, frame_dir: str) -> bool:
  """Whether a pyramid must be rewritten; a pyramid made from other inputs is removed first, so no tile of
  another zoom range or format stays."""
  if manifest.fresh(key, inputs, frame_dir):
    return False
  if manifest.recorded(key) and os.path.isdir(frame_dir):
    shutil.rmtree(frame_dir)
  return True


def _remove_dropped(manifest: Manifest, region_dir: str, labels: list[str]) -> None:
  """Removes the outputs of the frames the manifest knows but `labels` no longer holds."""
  known = {key.split("/")[1].removesuffix(".tif") for key in manifest.entries if key.count("/") == 1}
  dropped = sorted(known - {*labels, "animated"})
  for label in dropped:
    for layer in (*LAYERS, UNCERTAINTY):
      for path in (os.path.join(region_dir, layer, label), os.path.join(region_dir, layer, f"{label}.tif")):
        if os.path.isdir(path):
          shutil.rmtree(path)
        elif os.path.exists(path):
          os.remove(path)
      manifest.forget(f"{layer}/{label}")
      manifest.forget(f"{layer}/{label}.tif")
  if dropped:
    logging.info("removed the outputs of frames no longer published: %s", ", ".join(dropped))
    manifest.save()


def _enhance_stale(manifest: Manifest, enhancer, originals: dict, region_dir: str, made_from: dict) -> int:
  """Enhances the frames whose enhanced COG (and spread) is not fresh; returns how many."""
  count = 0
  for label, inputs in made_from.items():
    outputs = {"enhanced": os.path.join(region_dir, "enhanced", f"{label}.tif")}
    if enhancer.uncertainty:
      outputs[UNCERTAINTY] = os.path.join(region_dir, UNCERTAINTY, f"{label}.tif")
    if all(manifest.fresh(f"{layer}/{label}.tif", inputs, path) for layer, path in outputs.items()):
      continue
    enhance_geotiff(originals[label], outputs["enhanced"], enhancer, uncertainty_path=outputs.get(UNCERTAINTY, ""))
    for layer in outputs:
      manifest.record(f"{layer}/{label}.tif", inputs)
    count += 1
  return count


def _publish_layer(manifest: Manifest, layer: str, frames: dict, region_dir: str, region_name: str, bounds,
                   zooms: tuple[int, int], fmt: str, delay_ms: int, stretch: Stretch | None) -> tuple[int, int]:
  """The tiles, animated tiles, TileJSON and video of one layer; frames: {label: (COG, digest of what it was made
  from)}, in label order; stretch: how reflectance is drawn (None: the uncertainty layer's colour map). Returns
  (tiles written, tiles kept)."""
  labels, (min_z, max_z) = list(frames), zooms
  settings = digest(min_z, max_z, fmt, bounds, stretch.record() if stretch else None)
  written = kept = 0
  frame_dirs, frame_digests = [], []
  for label, (path, source) in frames.items():
    frame_dir = os.path.join(region_dir, layer, label)
    inputs = digest(source, settings)
    pyramid = tiles.write_pyramid(path, frame_dir, min_z, max_z, fmt,
                                  _tiles_of(manifest, f"{layer}/{label}", inputs, frame_dir), bounds, stretch)
    manifest.record(f"{layer}/{label}", inputs)
    written, kept = written + pyramid.written, kept + pyramid.skipped
    tiles.write_tilejson(os.path.join(frame_dir, "tilejson.json"), f"{region_name} {layer} {label}",
                         f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z, f"{layer} reflectance, {label}", stretch)
    frame_dirs.append(frame_dir)
    frame_digests.append(inputs)
  animated_dir = os.path.join(region_dir, layer, "animated")
  sequence = digest(labels, frame_digests, delay_ms)
  done, skipped = animation.write_animated_tiles(frame_dirs, animated_dir, bounds, min_z, max_z, fmt, delay_ms,
                                                 _tiles_of(manifest, f"{layer}/animated", sequence, animated_dir))
  manifest.record(f"{layer}/animated", sequence)
  tiles.write_tilejson(os.path.join(animated_dir, "tilejson.json"), f"{region_name} {layer} animated",
                       f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z,
                       f"{layer} reflectance, frames {', '.join(labels)}, {delay_ms} ms each", stretch)
  video, gif = (os.path.join(region_dir, f"{layer}.{ext}") for ext in ("mp4", "gif"))
  if layer != UNCERTAINTY and not (manifest.fresh(f"{layer}.mp4", sequence, video) and os.path.exists(gif)):
    animation.write_timelapse([path for path, _ in frames.values()], labels, video, gif, delay_ms, stretch)
    manifest.record(f"{layer}.mp4", sequence)
  return written + done, kept + skipped


def _region_stretch(manifest: Manifest, originals: list[str]) -> Stretch:
  """The stretch the region was first published with, or a new one over `originals` (first run, overwrite)."""
  recorded = manifest.entries.get(STRETCH)
  if recorded and not manifest.overwrite:
    return Stretch.from_record(recorded)
  stretch = region_stretch(originals)
  manifest.entries[STRETCH] = stretch.record()
  manifest.save()
  return stretch


def publish(originals: dict[str, str], enhancer, region_dir: str, region_name: str, min_z: int, max_z: int,
            fmt: str = "png", delay_ms: int = 1000, overwrite: bool = False, skipped=None, metrics=None,
            run: str = "", served_at: str = "") -> Publication:
  """originals: {frame label (year): original COG}, in any order (frames are published in label order); for the
  catalog's model Item: the model's headline metrics, the pipeline run that made it and where it is served
  (default: the folder the enhancer loaded)."""
  if not originals:
    raise ValueError(f"no frame to publish for region {region_name!r}: every year was skipped "
                     f"({'; '.join(f'{k}: {v}' for k, v in (skipped or {}).items()) or 'no years given'})")
  labels = sorted(originals)
  manifest = Manifest(region_dir, overwrite)
  _remove_dropped(manifest, region_dir, labels)
  model = model_identity(enhancer.model_dir)
  made_from = {"original": {label: digest(raster_digest(originals[label])) for label in labels}}
  made_from["enhanced"] = {label: digest(source, model) for label, source in made_from["original"].items()}
  enhanced_count = _enhance_stale(manifest, enhancer, originals, region_dir, made_from["enhanced"])
  layers = ["original", "enhanced"] + ([UNCERTAINTY] if enhancer.uncertainty else [])
  paths = {"original": originals,
           **{layer: {label: os.path.join(region_dir, layer, f"{label}.tif") for label in labels}
              for layer in layers[1:]}}
  bounds = tiles.geographic_bounds(originals[labels[0]])
  stretch = _region_stretch(manifest, [originals[label] for label in labels])
  written = kept = 0
  for layer in layers:
    sources = made_from["original" if layer == "original" else "enhanced"]
    if layer == UNCERTAINTY:
      sources = {label: digest(source, UNCERTAINTY) for label, source in sources.items()}
    frames = {label: (paths[layer][label], sources[label]) for label in labels}
    done, skipped_tiles = _publish_layer(manifest, layer, frames, region_dir, region_name, bounds, (min_z, max_z),
                                         fmt, delay_ms, None if layer == UNCERTAINTY else stretch)
    written, kept = written + done, kept + skipped_tiles
  viewer = write_viewer(region_dir, region_name, layers, labels, bounds, min_z, max_z, fmt, delay_ms)
  write_catalog(region_dir, region_name, paths, bounds,
                f"Landsat frames of {region_name} and their super-resolution by the model {enhancer.info.name}",
                ModelRecord(served_at or enhancer.model_dir, enhancer.info, model, dict(metrics or {}), run))
  logging.info("published %d frames of %s: %d enhanced, %d tiles written, %d already there; viewer %s",
               len(labels), region_name, enhanced_count, written, kept, viewer)
  return Publication(labels, dict(skipped or {}), written, kept, viewer, enhanced_count)

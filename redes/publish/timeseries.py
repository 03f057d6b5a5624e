"""Publishes a region's yearly frames: the one way TileGen and `redes tiles` turn frames into the end product.

Given the original frames (redes.publish.frames: one COG per year on one grid) and a served model, it plans what is
stale, has redes.publish.publishing_pipeline (Beam) enhance the frames and write the tiles and animated tiles (each
recorded in the manifest once complete), then writes the rest and records it. Under `<region_dir>/`:
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
left unfinished is rebuilt, and only that. `overwrite` rebuilds everything.
"""
import dataclasses
import logging
import os
import shutil

from redes.atomic import remove_staging_files
from redes.publish import animation, publishing_pipeline, tiles
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


def _stale_frames(manifest: Manifest, originals: dict, paths: dict, made_from: dict) -> list:
  """The frames whose enhanced COG (and spread) is not fresh, each with the manifest entries of its COGs."""
  stale = []
  for label, inputs in made_from.items():
    outputs = {f"{layer}/{label}.tif": paths[layer][label] for layer in paths if layer != "original"}
    if not all(manifest.fresh(key, inputs, path) for key, path in outputs.items()):
      stale.append(publishing_pipeline.FrameToEnhance(
          label, originals[label], paths["enhanced"][label], paths.get(UNCERTAINTY, {}).get(label, ""),
          tuple((key, inputs) for key in outputs)))
  return stale


@dataclasses.dataclass(frozen=True)
class _Layer:
  """One layer's plan: its frames {label: (COG, digest of what it was made from)}, in label order; stretch: how
  reflectance is drawn (None: the uncertainty layer's colour map); settings: the digest of the tile settings;
  delay_ms: each frame's time in the animations."""
  name: str
  frames: dict
  stretch: Stretch | None
  settings: str
  delay_ms: int

  def frame_dir(self, region_dir: str, label: str) -> str:
    return os.path.join(region_dir, self.name, label)

  def frame_inputs(self, label: str) -> str:
    return digest(self.frames[label][1], self.settings)

  def sequence(self) -> str:
    return digest(list(self.frames), [self.frame_inputs(label) for label in self.frames], self.delay_ms)


def _plan_layer(manifest: Manifest, layer: _Layer, region_dir: str, enhancing: set, fmt: str):
  """The pyramids and the animation of one layer for the pipeline (stale pyramids removed first), each with the
  manifest entry the pipeline records once it is written."""
  pyramids = []
  for label, (path, _) in layer.frames.items():
    frame_dir, key, inputs = layer.frame_dir(region_dir, label), f"{layer.name}/{label}", layer.frame_inputs(label)
    pyramids.append(publishing_pipeline.PyramidToWrite(
        layer.name, label, tiles.PyramidJob(path, frame_dir, fmt, _tiles_of(manifest, key, inputs, frame_dir),
                                            layer.stretch),
        layer.name != "original" and label in enhancing, ((key, inputs),)))
  animated_dir, key = os.path.join(region_dir, layer.name, "animated"), f"{layer.name}/animated"
  animation_job = publishing_pipeline.AnimationToWrite(
      layer.name, tuple(layer.frame_dir(region_dir, label) for label in layer.frames), animated_dir,
      _tiles_of(manifest, key, layer.sequence(), animated_dir), ((key, layer.sequence()),))
  return pyramids, animation_job


def _finish_layer(manifest: Manifest, layer: _Layer, region_dir: str, region_name: str, bounds,
                  zooms: tuple[int, int], fmt: str) -> None:
  """After the pipeline (which recorded the layer's pyramids and animation): its TileJSON documents and video."""
  (min_z, max_z), labels = zooms, list(layer.frames)
  for label in labels:
    frame_dir = layer.frame_dir(region_dir, label)
    tiles.write_tilejson(os.path.join(frame_dir, "tilejson.json"), f"{region_name} {layer.name} {label}",
                         f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z, f"{layer.name} reflectance, {label}",
                         layer.stretch)
  animated_dir = os.path.join(region_dir, layer.name, "animated")
  tiles.write_tilejson(os.path.join(animated_dir, "tilejson.json"), f"{region_name} {layer.name} animated",
                       f"{{z}}/{{x}}/{{y}}.{fmt}", bounds, min_z, max_z,
                       f"{layer.name} reflectance, frames {', '.join(labels)}, {layer.delay_ms} ms each",
                       layer.stretch)
  video, gif = (os.path.join(region_dir, f"{layer.name}.{ext}") for ext in ("mp4", "gif"))
  if layer.name != UNCERTAINTY and not (manifest.fresh(f"{layer.name}.mp4", layer.sequence(), video)
                                        and os.path.exists(gif)):
    animation.write_timelapse([path for path, _ in layer.frames.values()], labels, video, gif, layer.delay_ms,
                              layer.stretch)
    manifest.record(f"{layer.name}.mp4", layer.sequence())


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
            run: str = "", served_at: str = "", beam_args=None) -> Publication:
  """originals: {frame label (year): original COG}, in any order (frames are published in label order); for the
  catalog's model Item: the model's headline metrics, the pipeline run that made it and where it is served
  (default: the folder the enhancer loaded); beam_args: the arguments of the Beam pipeline that does the heavy work
  (default: Beam's local runner, redes.publish.publishing_pipeline.default_beam_args)."""
  if not originals:
    raise ValueError(f"no frame to publish for region {region_name!r}: every year was skipped "
                     f"({'; '.join(f'{k}: {v}' for k, v in (skipped or {}).items()) or 'no years given'})")
  labels = sorted(originals)
  manifest = Manifest(region_dir, overwrite)
  _remove_dropped(manifest, region_dir, labels)
  model = model_identity(enhancer.model_dir)
  made_from = {"original": {label: digest(raster_digest(originals[label])) for label in labels}}
  made_from["enhanced"] = {label: digest(source, model) for label, source in made_from["original"].items()}
  made_from[UNCERTAINTY] = {label: digest(source, UNCERTAINTY) for label, source in made_from["enhanced"].items()}
  names = ["original", "enhanced"] + ([UNCERTAINTY] if enhancer.uncertainty else [])
  paths = {"original": originals,
           **{layer: {label: os.path.join(region_dir, layer, f"{label}.tif") for label in labels}
              for layer in names[1:]}}
  bounds = tiles.geographic_bounds(originals[labels[0]])
  stretch = _region_stretch(manifest, [originals[label] for label in labels])
  stale = _stale_frames(manifest, originals, paths, made_from["enhanced"])
  layers = []
  for name in names:
    drawn = None if name == UNCERTAINTY else stretch
    layers.append(_Layer(name, {label: (paths[name][label], made_from[name][label]) for label in labels}, drawn,
                         digest(min_z, max_z, fmt, bounds, drawn.record() if drawn else None), delay_ms))
  pyramids, animations = [], []
  for layer in layers:
    layer_pyramids, animation_job = _plan_layer(manifest, layer, region_dir, {f.label for f in stale}, fmt)
    pyramids += layer_pyramids
    animations.append(animation_job)
  work = publishing_pipeline.Work(region_dir, enhancer.model_dir, enhancer.uncertainty, enhancer.halo,
                                  tuple(stale), tuple(pyramids), tuple(animations), tuple(bounds), min_z, max_z,
                                  fmt, delay_ms)
  publishing_pipeline.share_enhancer(enhancer)
  remove_staging_files(region_dir)               # what killed earlier runs left
  try:
    written, kept = publishing_pipeline.run(work, os.path.join(region_dir, f".counts.{os.getpid()}.json"),
                                            beam_args)
  finally:                                       # what workers stopped by an interrupted pipeline left
    remove_staging_files(region_dir)
  manifest.merge_parts()
  manifest.save()
  for layer in layers:
    _finish_layer(manifest, layer, region_dir, region_name, bounds, (min_z, max_z), fmt)
  viewer = write_viewer(region_dir, region_name, names, labels, bounds, min_z, max_z, fmt, delay_ms)
  write_catalog(region_dir, region_name, paths, bounds,
                f"Landsat frames of {region_name} and their super-resolution by the model {enhancer.info.name}",
                ModelRecord(served_at or enhancer.model_dir, enhancer.info, model, dict(metrics or {}), run))
  logging.info("published %d frames of %s: %d enhanced, %d tiles written, %d already there; viewer %s",
               len(labels), region_name, len(stale), written, kept, viewer)
  return Publication(labels, dict(skipped or {}), written, kept, viewer, len(stale))

"""The heavy part of a publication as one Beam pipeline; redes.publish.timeseries plans it (what is stale, from the
manifest) and writes the small files after it (TileJSON, videos, viewer, catalog, manifest).

  stale frames' strips of block rows --Reshuffle--> their parts of the enhanced COGs (redes.publish.enhance, blocks
      with a halo); the worker that finishes a frame's last strip puts its parts together into the COG
      (redes.publish.cog.assemble), so each frame is complete, and recorded, as soon as it can be
  every pyramid's metatiles --Reshuffle--> tiles (redes.publish.tiles); a pyramid of a frame being enhanced
                                           starts when that frame's COG is written, the others at once
  per layer, once all its tiles are written --> its animated tiles, by metatile --Reshuffle--> (redes.publish.animation)
Each enhanced frame, pyramid and layer animation is recorded in the region's manifest as soon as it is complete
(redes.publish.manifest.record_part), so an interrupted publication keeps what it finished; it first waits for the
units its worker threads are doing, which outlive the stopped pipeline (_Units), so that they write nothing after
the planner has removed the staging files.

Every unit writes its own files, the same way whichever worker does it and in whatever order, so one worker and
many write the same bytes. The runner comes from the Beam arguments: by default Beam's local runner over a thread
per CPU (default_beam_args), or `--direct_num_workers=N --direct_running_mode=multi_processing` (worker processes),
or Dataflow (`--runner=DataflowRunner ...`), whose workers must all see the region folder (a shared filesystem).
"""
import collections
import contextlib
import dataclasses
import functools
import json
import logging
import os
import pickle
import threading

import apache_beam as beam
import rasterio
from apache_beam.options.pipeline_options import PipelineOptions

from redes import cpus
from redes.atomic import staging_name, write_atomically
from redes.publish import animation, blocks, cog, tiles
from redes.publish.manifest import record_part

PROGRESS_EVERY = 50          # squares between two progress lines of a worker
_PROGRESS = collections.Counter()
_ENHANCERS = {}   # (model folder, uncertainty) -> Enhancer loaded in this process (the caller's, in-process)
_LOADING, _COUNTING = threading.Lock(), threading.Lock()   # over each, for the threads of a worker


class _Units:
  """The units of work (strips, metatiles, animated squares) that this process's worker threads are doing. Threads,
  unlike worker processes, outlive a pipeline stopped by an interrupt or a SIGTERM and go on with their bundles:
  stop() makes every unit not yet begun do nothing and waits for those running, so that nothing is written after
  the publication has removed its staging files."""

  def __init__(self):
    self._changed, self._running, self.stopping = threading.Condition(), 0, False

  def start(self) -> None:
    with self._changed:
      self.stopping = False

  @contextlib.contextmanager
  def running(self):
    """Yields whether to do the unit (False once stopping); counts it as running meanwhile."""
    with self._changed:
      going = not self.stopping
      self._running += going
    if not going:
      yield False
      return
    try:
      yield True
    finally:
      with self._changed:
        self._running -= 1
        self._changed.notify_all()

  def stop(self, timeout: float) -> None:
    with self._changed:
      self.stopping = True
      if self._running:
        logging.info("waiting for the %d units of work this process's workers are doing", self._running)
      if not self._changed.wait_for(lambda: not self._running, timeout):
        logging.warning("%d units of work still running after %.0f s; they may leave staging files",
                        self._running, timeout)


_UNITS = _Units()
STOP_WAIT_S = 60             # the longest an interrupted publication waits for its worker threads' units


def default_beam_args(work: "Work") -> list[str]:
  """Beam's local runner, without runner discovery (DirectRunner would first try to download the Prism runner,
  which fails offline), over one thread per CPU this process may use (redes.cpus), at most one per unit of work.
  Threads start at once and share the model loaded; what they do holds the GIL little (GDAL's warps and writes,
  TensorFlow, numpy and Pillow's encoders release it), while a worker process takes seconds to start (importing
  Beam) and loads the model again."""
  units = len(work.frames) + len(work.squares) * (len(work.pyramids) + len(work.animations))
  return local_beam_args(max(1, min(cpus.available(), units)))


def local_beam_args(workers: int, mode: str = "multi_threading") -> list[str]:
  """Beam's local runner over `workers` threads (mode "multi_threading") or processes ("multi_processing"); one
  worker: in this process alone."""
  return ["--runner=FnApiRunner", f"--direct_num_workers={workers}",
          *([f"--direct_running_mode={mode}"] if workers > 1 else [])]


def share_enhancer(enhancer) -> None:
  """Lets the pipeline's enhancement in this process use `enhancer` instead of loading the model again."""
  _ENHANCERS[(enhancer.model_dir, enhancer.uncertainty)] = enhancer


# Each unit below carries the manifest entries, (key, digest of what it is made from), that record it once it is
# complete; the planner (redes.publish.timeseries) names them.
@dataclasses.dataclass(frozen=True)
class FrameToEnhance:
  label: str
  original: str
  enhanced: str
  uncertainty: str = ""          # the spread's COG, with an uncertainty model
  records: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class PyramidToWrite:
  layer: str
  label: str
  job: tiles.PyramidJob
  after_enhancing: bool          # its COG is one this publication enhances first
  records: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class AnimationToWrite:
  layer: str
  frame_dirs: tuple[str, ...]
  directory: str
  overwrite: bool
  records: tuple[tuple[str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class Work:
  """What one publication leaves to the pipeline. Every layer and frame has the tiles of `bounds` (WGS84) from
  min_z to max_z, cut in the same metatile squares. What is finished is recorded in region_dir's manifest."""
  region_dir: str
  model_dir: str
  uncertainty: bool
  halo: int
  frames: tuple[FrameToEnhance, ...]
  pyramids: tuple[PyramidToWrite, ...]
  animations: tuple[AnimationToWrite, ...]
  bounds: tuple[float, float, float, float]
  min_z: int
  max_z: int
  fmt: str
  delay_ms: int
  publisher: int = dataclasses.field(default_factory=os.getpid)   # the publishing process, in its files' names

  @property
  def squares(self) -> list[list]:
    return _squares(self.bounds, self.min_z, self.max_z)


@functools.lru_cache(maxsize=4)
def _squares(bounds, min_z: int, max_z: int) -> list[list]:
  """The metatile squares, computed once per worker process (the same in each: morecantile's order)."""
  return tiles.metatiles(tiles.tiles_for(bounds, min_z, max_z))


class _EnhanceStrip(beam.DoFn):
  """Enhances strips of a frame's block rows into parts of its COGs; the worker that finds every strip of the frame
  done (each leaves a marker holding its parts) takes the frame's assembly, by creating its assembly marker, and
  yields its label. No barrier waits for the other frames: a frame is recorded as soon as it is complete. The model
  is loaded once per worker process, when its first strip comes (Beam sets a DoFn up in every worker, strips to
  enhance or not)."""

  def __init__(self, work: Work):
    super().__init__()
    self._work = work

  def _enhancer(self):
    key = (self._work.model_dir, self._work.uncertainty)
    with _LOADING:                                         # one load for all the threads of a worker
      if key not in _ENHANCERS:
        # pylint: disable=import-outside-toplevel  (TensorFlow loads slowly; only workers that enhance need it)
        import tensorflow as tf
        from redes.publish.enhance import Enhancer
        for gpu in tf.config.list_physical_devices("GPU"):   # workers share a GPU: each takes only what it uses
          tf.config.experimental.set_memory_growth(gpu, True)
        _ENHANCERS[key] = Enhancer(*key)
      return _ENHANCERS[key]

  def process(self, item):
    # pylint: disable-next=import-outside-toplevel  (as in _enhancer)
    from redes.publish.enhance import enhance_rows
    index, strip, rows, count = item
    frame = self._work.frames[index]
    with _UNITS.running() as going:
      if not going:
        return
      parts = enhance_rows(frame.original, frame.enhanced, self._enhancer(), rows, halo=self._work.halo,
                           uncertainty_path=frame.uncertainty)
      write_atomically(_strip_markers(self._work, frame, count)[strip], pickle.dumps(parts))
      assembled = not _UNITS.stopping and _takes_assembly(self._work, frame, count)
      if assembled:
        _assemble(self._work, frame, count)
    if assembled:
      yield frame.label


def _takes_assembly(work: Work, frame: FrameToEnhance, count: int) -> bool:
  """Whether every strip of the frame is done and this worker is the first to find so (by creating the frame's
  assembly marker)."""
  if not all(os.path.exists(marker) for marker in _strip_markers(work, frame, count)):
    return False
  try:
    os.close(os.open(_marker(work, frame, "assembling"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
  except FileExistsError:
    return False                                           # another worker finished a strip too, and assembles
  return True


def _assemble(work: Work, frame: FrameToEnhance, count: int) -> None:
  """Puts the parts of the frame's strips together into its COGs and records them."""
  done = _strip_markers(work, frame, count)
  by_cog = collections.defaultdict(list)
  for marker in done:
    with open(marker, "rb") as f:
      for part in pickle.load(f):
        by_cog[part.path].append(part)
  for cog_parts in by_cog.values():
    cog.assemble(cog_parts)
  _record(work, frame.records)
  for marker in [*done, _marker(work, frame, "assembling")]:
    os.remove(marker)
  logging.info("enhanced %s into %s", frame.label, frame.enhanced)


def _marker(work: Work, frame: FrameToEnhance, what: str) -> str:
  """A file of this publication beside the frame's COG while it is being enhanced: named like a staging file of
  the publishing process, so that remove_staging_files clears what an interrupted publication left."""
  return staging_name(frame.enhanced, f".{what}", work.publisher)


def _strip_markers(work: Work, frame: FrameToEnhance, count: int) -> list[str]:
  """The markers the frame's `count` strips leave when done, each holding its parts."""
  return [_marker(work, frame, f"strip{k}") for k in range(count)]


def _strips(index: int, work: Work) -> list[tuple[int, int, tuple[int, int], int]]:
  """(frame, strip, its low-resolution rows, the frame's number of strips) of every strip of a frame to enhance."""
  with rasterio.open(work.frames[index].original) as src:
    plan = blocks.strips(src.height)
  return [(index, strip, rows, len(plan)) for strip, rows in enumerate(plan)]


def _record(work: Work, records) -> None:
  with _UNITS.running() as going:
    for key, made_from in records if going else ():
      record_part(work.region_dir, key, made_from)


def _tile_square(item, work: Work):
  """(pyramid, square) -> (pyramid, (written, already there))."""
  pyramid, square = item
  with _UNITS.running() as going:
    if not going:
      return pyramid, (0, 0)
    counts = tiles.write_metatile(work.pyramids[pyramid].job, work.squares[square])
  with _COUNTING:
    _PROGRESS.update(tiles=counts[0] + counts[1], squares=1)
    done = dict(_PROGRESS)
  if done["squares"] % PROGRESS_EVERY == 0:
    logging.info("tiled %d squares (%d tiles) in this process, of %d squares x %d pyramids in all",
                 done["squares"], done["tiles"], len(work.squares), len(work.pyramids))
  return pyramid, counts


def _pyramid_done(item, work: Work):
  """(pyramid, its counts) -> (layer, its counts), once every square of the pyramid is written."""
  index, counts = item
  pyramid = work.pyramids[index]
  _record(work, pyramid.records)
  return pyramid.layer, counts


def _animate_square(item, work: Work):
  """(animation, square) -> (animation, (written, already there))."""
  index, square = item
  job = work.animations[index]
  with _UNITS.running() as going:
    if not going:
      return index, (0, 0)
    return index, animation.write_animated_square(list(job.frame_dirs), job.directory, work.squares[square],
                                                  work.fmt, work.delay_ms, job.overwrite)


def _animation_done(item, work: Work):
  """(animation, its counts) -> (layer, its counts), once every animated square is written."""
  index, counts = item
  job = work.animations[index]
  _record(work, job.records)
  return job.layer, counts


def _add(pairs):
  written = skipped = 0
  for done, kept in pairs:
    written, skipped = written + done, skipped + kept
  return written, skipped


def _layer_done(item, kind: str):
  layer, (written, skipped) = item
  logging.info("%s of the %s layer: %d written, %d already there", kind, layer, written, skipped)
  return item


def run(work: Work, counts_path: str, beam_args=None) -> tuple[int, int]:
  """Runs the pipeline (Beam arguments naming no runner get Beam's local one, FnApiRunner); returns (tiles
  written, tiles already there), animated tiles included, which the workers write to `counts_path` (a file beside
  the outputs, removed after). Stopped by an exception (an interrupt or a SIGTERM included), it first waits for the
  units this process's worker threads are doing."""
  args = list(beam_args or default_beam_args(work))
  if not any(arg.startswith("--runner") for arg in args):   # not DirectRunner, which first tries to download Prism
    args.insert(0, "--runner=FnApiRunner")
  with _COUNTING:
    _PROGRESS.clear()                      # this run's squares, in this process (each run's workers start at 0)
  _UNITS.start()
  try:
    _run(work, counts_path, args)
  except BaseException:
    _UNITS.stop(STOP_WAIT_S)
    raise
  with open(counts_path) as f:
    written, skipped = json.load(f)
  os.remove(counts_path)
  return written, skipped


def _run(work: Work, counts_path: str, args: list[str]) -> None:
  """Builds the pipeline and runs it to its end; its last step writes the counts to counts_path."""
  waiting = {i for i, p in enumerate(work.pyramids) if p.after_enhancing}
  with beam.Pipeline(options=PipelineOptions(args)) as pipeline:
    enhanced = (pipeline
                | "Frames" >> beam.Create(list(range(len(work.frames))))
                | "Strips" >> beam.FlatMap(_strips, work)
                | "SpreadStrips" >> beam.Reshuffle()
                | "Enhance" >> beam.ParDo(_EnhanceStrip(work)))
    after_enhancing = enhanced | "TheirPyramids" >> beam.FlatMap(
        lambda label: [i for i in waiting if work.pyramids[i].label == label])
    at_once = pipeline | "OtherPyramids" >> beam.Create(sorted(set(range(len(work.pyramids))) - waiting))
    tiled = ((at_once, after_enhancing)
             | "Pyramids" >> beam.Flatten()
             | "Squares" >> beam.FlatMap(lambda i: [(i, s) for s in range(len(work.squares))])
             | "SpreadSquares" >> beam.Reshuffle()
             | "Tile" >> beam.Map(_tile_square, work))
    layers = (tiled
              | "PerPyramid" >> beam.CombinePerKey(_add)
              | "PyramidWritten" >> beam.Map(_pyramid_done, work)
              | "PerLayer" >> beam.CombinePerKey(_add)
              | "LayerTiled" >> beam.Map(_layer_done, "tiles"))
    animations = {job.layer: i for i, job in enumerate(work.animations)}
    animated = (layers
                | "AnimatedSquares" >> beam.FlatMap(
                    lambda item: [(animations[item[0]], s) for s in range(len(work.squares))]
                    if item[0] in animations else [])
                | "SpreadAnimated" >> beam.Reshuffle()
                | "Animate" >> beam.Map(_animate_square, work)
                | "PerAnimation" >> beam.CombinePerKey(_add)
                | "AnimationWritten" >> beam.Map(_animation_done, work)
                | "LayerAnimated" >> beam.Map(_layer_done, "animated tiles"))
    _ = ((layers, animated)
         | "Counts" >> beam.Flatten()
         | "Pairs" >> beam.Values()
         | "Total" >> beam.CombineGlobally(_add)
         | "WriteCounts" >> beam.Map(lambda total: write_atomically(counts_path, json.dumps(total))))

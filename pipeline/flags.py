"""Typed command-line flags over the defaults of pipeline.configs, shared by the runners.

Every bad value ends the program with exit code 2 and one line naming the flag, the value and what is expected.
"""
import argparse
import dataclasses
import json
import os
import sys
import tempfile

import rasterio
from rasterio.errors import RasterioIOError

from models.choices import GENERATORS, NORM_RANGES, PIXEL_LOSSES
from pipeline.configs import (COMPONENTS, DataConfig, EarthEngineConfig, EvaluationConfig, RasterConfig, RunConfig,
                              TileConfig, TrainingConfig)
from pipeline.pipeline import source_config
from redes.bands import BAND_SETS, parse_band_set
from redes.evaluation.margins import BORDER, SSIM_SIZE, min_patch_size
from redes.features import SOURCES
from redes.ingest import raster_dataset
from redes.ingest.earthengine import credentials, dataset
from redes.ingest.earthengine.dataset import MODES
from redes.ingest.earthengine.sensors import COMPOSITE_RULES
from redes.ingest.regions import RegionError, read_polygons
from redes.landsat_sensors import DEGRADATIONS, SENSOR_NAMES
from redes.publish.earthengine_frames import INSTRUMENTS
from redes.publish.grid import FrameError, region_grid
from redes.publish.tiles import FORMATS as TILE_FORMATS

SCALES = (2, 3, 4)
MAX_ZOOM = 18
FIRST_LANDSAT_YEAR = 1982


class OneLineParser(argparse.ArgumentParser):
  """argparse that reports an error as a single line (no usage block) and exits with 2."""

  def error(self, message):
    self.exit(2, f"{self.prog}: error: {message}\n")


def _typed(name: str, convert, check, expected: str):
  def parse(text: str):
    try:
      value = convert(text)
    except ValueError:
      value = None
    if value is None or not check(value):
      raise argparse.ArgumentTypeError(f"{text!r} is not {expected}")
    return value
  parse.__name__ = name
  return parse


positive_int = _typed("positive_int", int, lambda v: v > 0, "a positive integer")
non_negative_int = _typed("non_negative_int", int, lambda v: v >= 0, "an integer >= 0")
non_negative_float = _typed("non_negative_float", float, lambda v: 0 <= v < float("inf"), "a number >= 0")
positive_float = _typed("positive_float", float, lambda v: v > 0, "a positive number")
unit_fraction = _typed("unit_fraction", float, lambda v: 0 < v <= 1, "a fraction in (0, 1]")
band_indexes = _typed("band_indexes", lambda t: tuple(int(i) for i in t.split(",")),
                      lambda v: len(v) == 4 and min(v) >= 1, "four 1-based band indexes (red,green,blue,nir)")
finite_float = _typed("finite_float", float, lambda v: abs(v) < float("inf"), "a finite number")
scale_factor = _typed("scale_factor", int, lambda v: v in SCALES, f"one of {', '.join(map(str, SCALES))}")
landsat_year = _typed("landsat_year", int, lambda v: FIRST_LANDSAT_YEAR <= v <= 2100,
                      f"a year from {FIRST_LANDSAT_YEAR} (the first Landsat 4 images)")
zoom_level = _typed("zoom_level", int, lambda v: 0 <= v <= MAX_ZOOM, f"a zoom level 0..{MAX_ZOOM}")


def sensor_list(text: str) -> tuple[str, ...]:
  names = tuple(n.strip() for n in text.split(","))
  if not names or any(n not in SENSOR_NAMES for n in names) or len(set(names)) != len(names):
    raise argparse.ArgumentTypeError(f"{text!r} is not a list of distinct sensors among {', '.join(SENSOR_NAMES)}")
  return names


def frame_spec(text: str) -> tuple[str, str]:
  label, _, path = text.partition("=")
  if not (label.isdigit() and len(label) == 4 and path):
    raise argparse.ArgumentTypeError(f"{text!r} is not YEAR=GEOTIFF (a four-digit year, '=', a raster path)")
  return label, path


MAX_NAME_LENGTH = 100     # a folder name inside output paths (file systems allow 255 bytes per name)


def plain_name(text: str) -> str:
  if not text or text in (".", "..") or any(c in text for c in "/\\\0") or len(text.encode()) > MAX_NAME_LENGTH:
    shown = text if len(text) <= 40 else f"{text[:37]}..."
    raise argparse.ArgumentTypeError(f"{shown!r} is not a plain name (1 to {MAX_NAME_LENGTH} bytes, no path "
                                     "separators, not '.' or '..')")
  return text


def add_run_flags(parser: argparse.ArgumentParser) -> None:
  """Every flag of a pipeline run, a group per section of pipeline.configs.RunConfig."""
  parser.add_argument("--output-dir", default=RunConfig().output_dir,
                      help="run directory: artifacts, MLMD store, pushed models, summary.json")
  _add_data_flags(parser, DataConfig())
  _add_earthengine_flags(parser, EarthEngineConfig())
  _add_raster_flags(parser, RasterConfig())
  _add_training_flags(parser, TrainingConfig())
  _add_evaluation_flags(parser, EvaluationConfig())
  add_tile_flags(parser.add_argument_group("tiles"), TileConfig())


def _add_data_flags(parser, defaults: DataConfig) -> None:
  data = parser.add_argument_group("data")
  data.add_argument("--source", choices=SOURCES, default=defaults.source, help="where patch pairs come from")
  data.add_argument("--bands", choices=tuple(BAND_SETS), default=defaults.bands,
                    help="rgb or rgbn (with near infrared)")
  data.add_argument("--scaling-factor", type=scale_factor, default=defaults.scaling_factor)
  data.add_argument("--kernel-size", dest="patch_size", type=positive_int, default=defaults.patch_size,
                    help="high-resolution patch side in pixels, a multiple of the scaling factor")
  data.add_argument("--max-patches-per-split", type=non_negative_int, default=defaults.max_patches_per_split,
                    help="0 keeps every patch")
  data.add_argument("--data-dir", default=defaults.data_dir, help="demo imagery directory (default ~/.cache/redes)")


def _add_earthengine_flags(parser, defaults: EarthEngineConfig) -> None:
  earthengine = parser.add_argument_group("earthengine (--source earthengine; credentials from EE_PRIVATE_KEY and "
                                          "PROJECT_ID, or GOOGLE_APPLICATION_CREDENTIALS)")
  earthengine.add_argument("--geojsons", nargs=3, metavar=("TRAIN", "EVAL", "TEST"), default=defaults.geojsons,
                           help="region files (GeoJSON polygons) of the three splits")
  earthengine.add_argument("--dataset-name", type=plain_name, default=defaults.dataset_name)
  earthengine.add_argument("--slugs", nargs=2, metavar=("INPUT", "TARGET"), default=defaults.slugs,
                           help="input Landsat sensor (landsat4, 5, 7, 8, 9) and target (sentinel2)")
  earthengine.add_argument("--init-date", default=defaults.init_date,
                           help="first day of the composites, YYYY-MM-DD, or -<N>d: N days before the end date")
  earthengine.add_argument("--end-date", default=defaults.end_date,
                           help="last day of the composites, YYYY-MM-DD, or 'today': the day the run ingests")
  earthengine.add_argument("--scale", type=positive_float, default=defaults.scale, help="target pixel size, metres")
  earthengine.add_argument("--sample-size", type=positive_int, default=defaults.sample_size, help="patches per polygon")
  earthengine.add_argument("--composite", choices=COMPOSITE_RULES, default=defaults.composite)
  earthengine.add_argument("--min-valid-fraction", type=unit_fraction, default=defaults.min_valid_fraction,
                           help="patches with a smaller share of cloud-free pixels are rejected")
  earthengine.add_argument("--max-pair-shift", type=positive_float, default=defaults.max_pair_shift,
                           help="pairs (earthengine, rasters) whose input is misregistered by more than this many "
                                "30 m pixels against the target are rejected")
  earthengine.add_argument("--concurrency", type=positive_int, default=defaults.concurrency,
                           help="parallel Earth Engine requests")
  earthengine.add_argument("--ee-mode", dest="mode", choices=MODES, default=defaults.mode,
                           help="pixels: one request per patch; export: Export tasks to Cloud Storage (bulk)")
  earthengine.add_argument("--ee-bucket", dest="bucket", default=defaults.bucket,
                           help="Cloud Storage bucket of --ee-mode export")
  earthengine.add_argument("--ee-url", default=defaults.ee_url, help="Earth Engine REST endpoint (default: Google's)")
  earthengine.add_argument("--ee-cache-dir", dest="cache_dir", default=defaults.cache_dir,
                           help="where fetched patches are kept (default <data dir>/earthengine)")


def _add_raster_flags(parser, defaults: RasterConfig) -> None:
  rasters = parser.add_argument_group("rasters (--source rasters: your own Landsat and Sentinel-2 rasters, GeoTIFF "
                                      "or COG, local or gs://, any CRS)")
  rasters.add_argument("--landsat-raster", default=defaults.landsat_raster)
  rasters.add_argument("--sentinel2-raster", default=defaults.sentinel2_raster)
  rasters.add_argument("--landsat-band-indexes", type=band_indexes, default=defaults.landsat_band_indexes,
                       help="band numbers of red,green,blue,nir in the Landsat file (default: a full OLI stack)")
  rasters.add_argument("--sentinel2-band-indexes", type=band_indexes, default=defaults.sentinel2_band_indexes)
  rasters.add_argument("--landsat-scale", type=finite_float, default=defaults.landsat_scale)
  rasters.add_argument("--landsat-offset", type=finite_float, default=defaults.landsat_offset)
  rasters.add_argument("--sentinel2-scale", type=finite_float, default=defaults.sentinel2_scale)
  rasters.add_argument("--sentinel2-offset", type=finite_float, default=defaults.sentinel2_offset)
  rasters.add_argument("--raster-sample-size", type=non_negative_int, default=defaults.raster_sample_size,
                       help="footprints at most, 0: all")


def _add_training_flags(parser, defaults: TrainingConfig) -> None:
  training = parser.add_argument_group("training")
  training.add_argument("--model", choices=GENERATORS, default=defaults.model)
  training.add_argument("--norm-range", choices=NORM_RANGES, default=defaults.norm_range,
                        help="input scaling of the generator: standardize (per band), 0,1 or -1,1")
  training.add_argument("--reflectance-constraint", action="store_true", default=defaults.reflectance_constraint,
                        help="make the output averaged back to the input's pixels equal the input")
  training.add_argument("--batch-size", type=positive_int, default=defaults.batch_size)
  training.add_argument("--epochs", type=positive_int, default=defaults.epochs)
  training.add_argument("--steps-per-epoch", type=non_negative_int, default=defaults.steps_per_epoch,
                        help="0: one pass over the counted training split")
  training.add_argument("--shuffle-size", type=positive_int, default=defaults.shuffle_size)
  training.add_argument("--learning-rate", type=positive_float, default=defaults.learning_rate)
  training.add_argument("--pixel-loss", choices=PIXEL_LOSSES, default=defaults.pixel_loss)
  training.add_argument("--degradation", choices=DEGRADATIONS, default=defaults.degradation,
                        help="training inputs: sensors (each example degraded again with a point-spread width, "
                             "misregistration, noise, quantisation and gain drawn from the ranges of "
                             "--train-sensors; real pairs get the noise and quantisation) or reference (the "
                             "stored inputs as they are)")
  training.add_argument("--train-sensors", type=sensor_list, default=defaults.train_sensors, metavar="NAMES",
                        help=f"Landsat sensors to train for, comma-separated among {', '.join(SENSOR_NAMES)} "
                             f"(default {','.join(defaults.train_sensors)})")
  training.add_argument("--loss-shift", type=non_negative_int, default=defaults.loss_shift,
                        help="real pairs (earthengine, rasters): 10 m pixels the shift-tolerant pixel loss searches "
                             "in each direction (0: aligned); the demo source's pairs are co-registered and use the "
                             "aligned loss")
  training.add_argument("--gan-epochs", type=non_negative_int, default=defaults.gan_epochs,
                        help="epochs of adversarial fine-tuning after pixel-loss training (0: none)")
  training.add_argument("--adversarial-weight", type=positive_float, default=defaults.adversarial_weight)
  training.add_argument("--vgg-weights", default=defaults.vgg_weights,
                        help="local VGG19 weights file for the VGG54 content loss (default: L1 + spectral angle)")
  training.add_argument("--init-weights", default=defaults.init_weights, metavar="FILE.h5",
                        help="start training from the original system's SRGAN generator weights (model_weights.h5, "
                             "Keras 2); needs --model srgan --norm-range 0,1")
  training.add_argument("--mixed-precision", action="store_true", default=defaults.mixed_precision)
  training.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=defaults.warm_start,
                        help="start from the latest blessed model of earlier runs (default: off locally, on for "
                             "Kubeflow)")


def _add_evaluation_flags(parser, defaults: EvaluationConfig) -> None:
  evaluation = parser.add_argument_group("evaluation")
  evaluation.add_argument("--bless-margin-db", type=finite_float, default=defaults.bless_margin_db,
                          help="PSNR gain over bicubic (dB) a model needs to be blessed and pushed")
  evaluation.add_argument("--bless-tolerance-db", type=non_negative_float, default=defaults.bless_tolerance_db,
                          help="how far (dB) a model's PSNR may fall below the last blessed model's and still be "
                               "blessed (retraining is not deterministic)")
  evaluation.add_argument("--robustness-tolerance-db", type=non_negative_float,
                          default=defaults.robustness_tolerance_db,
                          help="how far (dB) a model's cPSNR may fall below bicubic's under any robustness variant "
                               "(other PSF, misregistration, sensor noise, gain) and still be blessed")
  evaluation.add_argument("--texture-ceiling", type=positive_float, default=defaults.texture_ceiling,
                          help="the most invented texture (high-frequency energy on the target's flattest pixels "
                               "over the target's own) a blessed model may show under any input")
  evaluation.add_argument("--eval-batch-size", type=positive_int, default=defaults.eval_batch_size,
                          help="test patches scored per model call")
  evaluation.add_argument("--stop-on-anomalies", action="store_true", default=defaults.stop_on_anomalies,
                          help="stop before training when ExampleValidator finds anomalies")

def add_tile_flags(group, defaults: TileConfig) -> None:
  """Flags of the published tiles, shared by the runners and `redes tiles`."""
  group.add_argument("--frames", nargs="+", type=frame_spec, default=list(defaults.frames), metavar="YEAR=GEOTIFF",
                     help="one reflectance GeoTIFF per year, any CRS (pipeline default: the demo Landsat 8 scene)")
  group.add_argument("--instrument", choices=INSTRUMENTS, default=defaults.instrument,
                     help="Earth Engine frames: landsat (TM/ETM+ 4-year windows to 2012, OLI yearly after) or one "
                          "sensor")
  group.add_argument("--start-year", type=landsat_year, default=defaults.start_year,
                     help="first year of Earth Engine frames (needs --geometry; not with --frames)")
  group.add_argument("--stop-year", type=landsat_year, default=defaults.stop_year,
                     help="last year (default: start year)")
  group.add_argument("--geometry", default=defaults.geometry, help="GeoJSON of the region (default: the first frame)")
  group.add_argument("--region-name", type=plain_name, default=defaults.region_name)
  group.add_argument("--min-z", type=zoom_level, default=defaults.min_z)
  group.add_argument("--max-z", type=zoom_level, default=defaults.max_z)
  group.add_argument("--tile-format", choices=tuple(TILE_FORMATS), default=defaults.tile_format,
                     help="png (animated tiles: APNG) or webp (animated WebP)")
  group.add_argument("--frame-delay-ms", type=positive_int, default=defaults.frame_delay_ms,
                     help="how long each year is shown in animations and the viewer")
  group.add_argument("--uncertainty", action="store_true", default=defaults.uncertainty,
                     help="also publish a per-pixel uncertainty layer: the spread of the model's outputs over the 8 "
                          "flips and rotations of the input (8 times the inference)")


def check_tile_flags(parser, args, runs_here: bool = True) -> None:
  """Checks across tile flags, before any work: zoom order, files that must exist, distinct years, and Earth Engine
  credentials when the frames come from Earth Engine and run here (see run_config)."""
  if args.min_z > args.max_z:
    parser.error(f"argument --min-z: {args.min_z} is above --max-z {args.max_z}")
  if args.start_year and args.frames:
    parser.error("argument --start-year: Earth Engine frames and --frames exclude each other; give one")
  if args.stop_year and not args.start_year:
    parser.error(f"argument --stop-year: {args.stop_year} needs --start-year")
  if args.start_year:
    args.stop_year = args.stop_year or args.start_year
    if args.stop_year < args.start_year:
      parser.error(f"argument --stop-year: {args.stop_year} is before --start-year {args.start_year}")
    if not args.geometry:
      parser.error("argument --geometry: Earth Engine frames (--start-year) need a GeoJSON of the region")
  if args.start_year and runs_here:
    try:
      credentials.load()
    except credentials.CredentialsError as err:
      parser.error(str(err))
  labels = [label for label, _ in args.frames]
  if len(set(labels)) != len(labels):
    parser.error(f"argument --frames: a year is given twice in {' '.join(labels)}; expected one raster per year")
  for label, path in args.frames:
    if not (path.startswith("gs://") or os.path.isfile(path)):
      parser.error(f"argument --frames: {label}={path!r}: {path!r} is not a file")
  if args.geometry and (runs_here or not args.geometry.startswith("gs://")):
    try:
      read_polygons(args.geometry)
    except RegionError as err:
      parser.error(f"argument --geometry: {err}")


def check_frames(parser, args, bands=None) -> None:
  """Each local --frames raster is one GDAL can read (with one band per name of `bands` when given), and the
  geometry overlaps the earliest year's raster, which sets the frames' grid."""
  for label, path in args.frames:
    if not path.startswith("gs://"):
      check_raster(parser, "--frames", path, label, bands)
  first = dict(args.frames)[min(dict(args.frames))] if args.frames else ""
  if args.geometry and first and not first.startswith("gs://"):
    try:
      region_grid(first, read_polygons(args.geometry))
    except (FrameError, RegionError) as err:
      parser.error(f"argument --geometry: {err}")


def check_raster(parser, flag: str, path: str, label: str = "", bands=None) -> tuple[int, int, int]:
  """(width, height, band count) of a raster GDAL can read, with one band per name of `bands` when given; else one
  line naming it (and its year)."""
  shown = f"{label}={path!r}" if label else repr(path)
  try:
    with rasterio.open(path) as src:
      size = src.width, src.height, src.count
  except RasterioIOError as err:
    parser.error(f"argument {flag}: {shown} is not a raster GDAL can read ({str(err).splitlines()[0]})")
  if bands is not None and size[2] != len(bands):
    parser.error(f"argument {flag}: {shown} has {size[2]} bands; the model expects {len(bands)} "
                 f"({', '.join(bands)})")
  return size


def check_writable(directory: str, flag: str = "--output-dir") -> str | None:
  """None when directory takes files, or can be made where its nearest existing parent takes files; else the
  one-line problem. Creates nothing (a refused run leaves no folder)."""
  existing = os.path.abspath(directory)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  try:
    if not os.path.isdir(existing):
      raise NotADirectoryError(20, "Not a directory")
    with tempfile.NamedTemporaryFile(dir=existing):
      pass
  except OSError as err:
    return f"argument {flag}: {directory!r} is not a writable directory ({err.strerror})"
  return None


def run_config(parser: argparse.ArgumentParser, args: argparse.Namespace, runs_here: bool = True) -> RunConfig:
  """Checks what single flags cannot and builds the RunConfig; errors exit 2 with one line.

  runs_here=False (compiling for a cluster) skips what only the cluster can check: credentials (a Kubernetes
  Secret or the pods' own there), access to the user's rasters and the files on gs://.
  """
  if args.patch_size % args.scaling_factor:
    parser.error(f"argument --kernel-size: {args.patch_size} is not a multiple of the scaling factor "
                 f"{args.scaling_factor}")
  smallest = min_patch_size(args.scaling_factor)
  if args.patch_size < smallest:
    parser.error(f"argument --kernel-size: {args.patch_size} is below {smallest}, the smallest patch the evaluator "
                 f"scores at scale {args.scaling_factor} (a {BORDER}-pixel border on each side and SSIM's "
                 f"{SSIM_SIZE}-pixel window inside)")
  check_tile_flags(parser, args, runs_here)
  if runs_here:
    check_frames(parser, args, parse_band_set(args.bands))     # the pipeline's model takes the run's bands
  if args.vgg_weights and not (os.path.isfile(args.vgg_weights) or
                               (not runs_here and args.vgg_weights.startswith("gs://"))):
    parser.error(f"argument --vgg-weights: {args.vgg_weights!r} is not a file (VGG19 weights are never downloaded)")
  if args.init_weights:
    problem = _check_init_weights(args, runs_here)
    if problem:
      parser.error(problem)
  problem = check_writable(args.output_dir)
  if problem:
    parser.error(problem)

  def pick(cls):
    return cls(**{f.name: tuple(v) if isinstance(v, list) else v
                  for f in dataclasses.fields(cls) for v in [getattr(args, f.name)]})
  config = RunConfig(output_dir=os.path.abspath(args.output_dir), data=pick(DataConfig),
                     earthengine=pick(EarthEngineConfig), rasters=pick(RasterConfig), training=pick(TrainingConfig),
                     evaluation=pick(EvaluationConfig), tiles=pick(TileConfig))
  problem = None
  if config.data.source == "earthengine":
    problem = _check_earthengine(config, runs_here)
  elif config.data.source == "rasters":
    problem = _check_rasters(config, runs_here)
  if problem:
    parser.error(problem)
  return config


def _check_init_weights(args, runs_here: bool) -> str | None:
  """The original's weights need its architecture and input scaling, and must load (checked here, before any
  work, when the file is on this machine)."""
  if args.model != "srgan" or args.norm_range != "0,1":
    return (f"argument --init-weights: the original's weights fit --model srgan --norm-range 0,1; got --model "
            f"{args.model} --norm-range {args.norm_range}")
  if not runs_here and args.init_weights.startswith("gs://"):
    return None
  # pylint: disable-next=import-outside-toplevel  (Keras and TensorFlow take seconds to load; only this flag needs them)
  from models.original_weights import load_original_generator
  try:
    load_original_generator(args.init_weights, len(parse_band_set(args.bands)), args.scaling_factor)
  except (OSError, ValueError) as err:
    return f"argument --init-weights: {str(err).splitlines()[0]}"
  return None


def _check_rasters(config: RunConfig, runs_here: bool) -> str | None:
  """Both rasters readable, with the bands asked for, overlapping by at least one patch."""
  if not (config.rasters.landsat_raster and config.rasters.sentinel2_raster):
    return "argument --landsat-raster: --source rasters needs --landsat-raster and --sentinel2-raster"
  if not runs_here:
    return None
  try:
    raster_dataset.plan(raster_dataset.from_source_config(json.loads(source_config(config)),
                                                          config.data.patch_size, config.data.scaling_factor))
  except ValueError as err:
    return str(err)
  return None


def _check_earthengine(config: RunConfig, runs_here: bool) -> str | None:
  """Everything about an Earth Engine dataset that can be checked before any request, credentials included."""
  if not config.earthengine.geojsons:
    return "argument --geojsons: --source earthengine needs three region files (train, eval, test)"
  try:
    ds = dataset.from_source_config(json.loads(source_config(config)), config.data.bands, config.data.patch_size,
                                    config.data.scaling_factor)
    if runs_here or not any(p.startswith("gs://") for p in config.earthengine.geojsons):   # read here
      dataset.plan(ds)
    if runs_here:
      credentials.load()
  except (dataset.DatasetError, RegionError, credentials.CredentialsError) as err:
    return str(err)
  return None


def parse_run_config(argv=None, prog: str | None = None, description: str = "") -> tuple[RunConfig, argparse.Namespace]:
  """The local runner's flags: every run flag, and --rebuild."""
  parser = OneLineParser(prog=prog or os.path.basename(sys.argv[0]), description=description)
  add_run_flags(parser)
  parser.add_argument("--rebuild", action="append", choices=COMPONENTS, default=[], metavar="COMPONENT",
                      help="run this component again instead of reusing its cached output (and so everything that "
                           "depends on it); repeatable; one of " + ", ".join(COMPONENTS))
  args = parser.parse_args(argv)
  return run_config(parser, args), args

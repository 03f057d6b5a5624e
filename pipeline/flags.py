"""Typed command-line flags over the defaults of pipeline.configs, shared by the runners.

Every bad value ends the program with exit code 2 and one line naming the flag, the value and what is expected.
"""
import argparse
import dataclasses
import os
import sys
import tempfile

from pipeline.configs import DataConfig, EvaluationConfig, RunConfig, TileConfig, TrainingConfig

SOURCES = ("demo",)
GENERATORS = ("residual", "srgan")
BAND_SETS = ("rgb", "rgbn")
SCALES = (2, 3, 4)
MAX_ZOOM = 18


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
positive_float = _typed("positive_float", float, lambda v: v > 0, "a positive number")
finite_float = _typed("finite_float", float, lambda v: abs(v) < float("inf"), "a finite number")
scale_factor = _typed("scale_factor", int, lambda v: v in SCALES, f"one of {', '.join(map(str, SCALES))}")
zoom_level = _typed("zoom_level", int, lambda v: 0 <= v <= MAX_ZOOM, f"a zoom level 0..{MAX_ZOOM}")


def _plain_name(text: str) -> str:
  if not text or text in (".", "..") or any(c in text for c in "/\\\0"):
    raise argparse.ArgumentTypeError(f"{text!r} is not a plain name (no path separators, not '.' or '..')")
  return text


def add_run_flags(parser: argparse.ArgumentParser) -> None:
  d, t, e, g = DataConfig(), TrainingConfig(), EvaluationConfig(), TileConfig()
  parser.add_argument("--output-dir", default=RunConfig().output_dir,
                      help="run directory: artifacts, MLMD store, pushed models, summary.json")
  data = parser.add_argument_group("data")
  data.add_argument("--source", choices=SOURCES, default=d.source, help="where patch pairs come from")
  data.add_argument("--bands", choices=BAND_SETS, default=d.bands, help="rgb or rgbn (with near infrared)")
  data.add_argument("--scaling-factor", type=scale_factor, default=d.scaling_factor)
  data.add_argument("--kernel-size", type=positive_int, default=d.kernel_size,
                    help="high-resolution patch side in pixels, a multiple of the scaling factor")
  data.add_argument("--max-patches-per-split", type=non_negative_int, default=d.max_patches_per_split,
                    help="0 keeps every patch")
  data.add_argument("--data-dir", default=d.data_dir, help="demo imagery directory (default ~/.cache/redes)")
  training = parser.add_argument_group("training")
  training.add_argument("--model", choices=GENERATORS, default=t.model)
  training.add_argument("--batch-size", type=positive_int, default=t.batch_size)
  training.add_argument("--epochs", type=positive_int, default=t.epochs)
  training.add_argument("--steps-per-epoch", type=non_negative_int, default=t.steps_per_epoch,
                        help="0: one pass over the counted training split")
  training.add_argument("--shuffle-size", type=positive_int, default=t.shuffle_size)
  training.add_argument("--learning-rate", type=positive_float, default=t.learning_rate)
  evaluation = parser.add_argument_group("evaluation")
  evaluation.add_argument("--bless-margin-db", type=finite_float, default=e.bless_margin_db,
                          help="PSNR gain over bicubic (dB) a model needs to be blessed and pushed")
  evaluation.add_argument("--stop-on-anomalies", action="store_true", default=e.stop_on_anomalies,
                          help="stop before training when ExampleValidator finds anomalies")
  tiles = parser.add_argument_group("tiles")
  tiles.add_argument("--scene", default=g.scene, help="GeoTIFF to enhance (default: the demo Landsat 8 scene)")
  tiles.add_argument("--region-name", type=_plain_name, default=g.region_name)
  tiles.add_argument("--min-z", type=zoom_level, default=g.min_z)
  tiles.add_argument("--max-z", type=zoom_level, default=g.max_z)


def _check_writable(directory: str) -> str | None:
  try:
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory):
      pass
  except OSError as err:
    return f"argument --output-dir: {directory!r} is not a writable directory ({err.strerror})"
  return None


def run_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> RunConfig:
  """Checks what single flags cannot and builds the RunConfig; errors exit 2 with one line."""
  if args.kernel_size % args.scaling_factor:
    parser.error(f"argument --kernel-size: {args.kernel_size} is not a multiple of the scaling factor "
                 f"{args.scaling_factor}")
  if args.min_z > args.max_z:
    parser.error(f"argument --min-z: {args.min_z} is above --max-z {args.max_z}")
  if args.scene and not os.path.isfile(args.scene):
    parser.error(f"argument --scene: {args.scene!r} is not a file")
  problem = _check_writable(args.output_dir)
  if problem:
    parser.error(problem)

  def pick(cls):
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})
  return RunConfig(output_dir=os.path.abspath(args.output_dir), data=pick(DataConfig), training=pick(TrainingConfig),
                   evaluation=pick(EvaluationConfig), tiles=pick(TileConfig))


def parse_run_config(argv=None, prog: str | None = None, description: str = "") -> tuple[RunConfig, argparse.Namespace]:
  parser = OneLineParser(prog=prog or os.path.basename(sys.argv[0]), description=description)
  add_run_flags(parser)
  args = parser.parse_args(argv)
  return run_config(parser, args), args

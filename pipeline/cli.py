"""The `redes` command (installed by setup.py): `redes enhance` super-resolves one GeoTIFF, `redes tiles`
publishes a region's yearly frames (redes.publish.timeseries) outside the pipeline, with the pipeline's own code.

Bad input ends the command with exit code 2 and one line naming the value and what was expected, before any work.
`redes tiles` holds the region folder while it publishes (redes.lock), so two runs never write one region. An
interrupt or a SIGTERM removes what was being written; finished outputs stay. The console shows Redes' own lines
and errors; every line, libraries' and TensorFlow's native ones included, goes to a log file (redes.run_log),
which a publication leaves in its region folder (`publish.log`), and a failure names.
"""
import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile

from pipeline.configs import TileConfig
from pipeline.flags import (OneLineParser, add_tile_flags, check_frames, check_raster, check_tile_flags, check_writable,
                           non_negative_int, positive_int)
from redes import run_log
from redes.disk_full import free_bytes
from redes.publish.blocks import BLOCK
from redes.lock import FolderLocked, folder_lock

PUBLICATION_LOG = "publish.log"


def _model_dir(parser, path: str) -> str:
  """A SavedModel directory with redes_model.json, or a serving directory (its newest version)."""
  # pylint: disable-next=import-outside-toplevel  (TensorFlow takes seconds to load; the flags are checked first)
  from redes.model_info import MODEL_INFO_FILE, latest_served_model
  if os.path.isfile(os.path.join(path, MODEL_INFO_FILE)):
    return path
  served = latest_served_model(path)
  if not served:
    parser.error(f"argument --model: {path!r} is neither a Redes SavedModel (no {MODEL_INFO_FILE}) nor a serving "
                 "directory holding one")
  return served


def _parser() -> argparse.ArgumentParser:
  parser = OneLineParser(prog="redes", description=__doc__.split("\n\n", 1)[0])
  commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
  enhance = commands.add_parser("enhance", help="super-resolve one GeoTIFF")
  enhance.add_argument("input", help="reflectance GeoTIFF (0..1), the bands the model expects")
  enhance.add_argument("output", help="the super-resolved Cloud-Optimized GeoTIFF to write")
  enhance.add_argument("--model", required=True, help="Redes SavedModel or serving directory")
  enhance.add_argument("--block", type=positive_int, default=BLOCK,
                       help="low-resolution block side (px) enhanced by one model call")
  enhance.add_argument("--halo", type=non_negative_int, default=None,
                       help="low-resolution context (px) read around each block (default: the model's receptive "
                       "radius, measured when it loads)")

  tiles = commands.add_parser("tiles", help="publish a region's yearly frames as COGs, tiles, animations, viewer")
  tiles.add_argument("--model", required=True, help="Redes SavedModel or serving directory")
  tiles.add_argument("--folder-path", required=True, help="output folder; the region goes to <folder>/<region>")
  tiles.add_argument("--overwrite", action="store_true", help="rewrite outputs already there (default: keep them)")
  tiles.add_argument("--reflectance-scale", type=float, default=1.0,
                     help="reflectance = DN * scale + offset (DN: the raster's values, its own band scale and offset "
                     "applied)")
  tiles.add_argument("--reflectance-offset", type=float, default=0.0)
  tiles.add_argument("--ee-url", default="", help="Earth Engine REST endpoint (default: Google's)")
  tiles.add_argument("--beam-arg", action="append", default=None, metavar="ARG",
                     help="a Beam pipeline argument for publishing, repeatable (default: Beam's local runner, over a "
                     "thread per CPU; e.g. --beam-arg=--direct_num_workers=4 "
                     "--beam-arg=--direct_running_mode=multi_processing, or --beam-arg=--runner=DataflowRunner ...)")
  add_tile_flags(tiles, TileConfig())
  return parser


def _check_room(parser, input_path: str, size: tuple[int, int, int], output: str, scale: int) -> None:
  """The enhanced raster of an input of `size` (width, height, bands) fits in the free space of the output's folder:
  its tiled staging copy and overviews (uncompressed 16-bit codes, 4/3 of the raster) and the COG copied from them,
  at most as large, before they are removed."""
  width, height, bands = size
  needed = width * scale * height * scale * bands * 2 * 2 * 4 // 3
  free = free_bytes(output)
  if needed > free:
    parser.error(f"argument input: {input_path!r} ({width} x {height} px, {bands} bands) enhances to "
                 f"{width * scale} x {height * scale} px, about {needed / 1e9:.1f} GB while writing; "
                 f"{free / 1e9:.1f} GB is free for {output!r}")


def _enhance(parser, args) -> str:
  """`redes enhance`; returns "" (it has no region folder)."""
  # pylint: disable-next=import-outside-toplevel  (TensorFlow takes seconds to load; the flags are checked first)
  from redes.publish.enhance import Enhancer, enhance_geotiff
  if not os.path.isfile(args.input):
    parser.error(f"argument input: {args.input!r} is not a file")
  if os.path.abspath(args.output) == os.path.abspath(args.input) or (
      os.path.exists(args.output) and os.path.samefile(args.output, args.input)):
    parser.error(f"argument output: {args.output!r} is the input; expected another path")
  problem = check_writable(os.path.dirname(os.path.abspath(args.output)), "output")
  if problem:
    parser.error(problem)
  size = check_raster(parser, "input", args.input)
  enhancer = Enhancer(_model_dir(parser, args.model))
  _check_room(parser, args.input, size, args.output, enhancer.scale)
  enhance_geotiff(args.input, args.output, enhancer, args.block, args.halo)
  print(f"wrote {args.output}")
  return ""


def _tiles(parser, args) -> str:
  """`redes tiles`; returns the region folder it published."""
  # pylint: disable=import-outside-toplevel  (TensorFlow takes seconds to load; the flags are checked first)
  from redes.evaluation.no_reference import frame_report
  from redes.publish import frames
  from redes.publish.enhance import Enhancer
  from redes.publish.timeseries import publish
  check_tile_flags(parser, args)
  if not (args.frames or args.start_year):
    parser.error("argument --frames: no frames given; expected YEAR=GEOTIFF for each year, or --start-year "
                 "(Earth Engine)")
  problem = check_writable(args.folder_path, "--folder-path")
  if problem:
    parser.error(problem)
  region_dir = os.path.join(args.folder_path, args.region_name)
  check_frames(parser, args)     # the bands are checked against the model's once it is loaded
  for label, path in args.frames:
    if os.path.abspath(path).startswith(os.path.abspath(region_dir) + os.sep):
      parser.error(f"argument --frames: {label}={path!r} lies inside the region's output folder {region_dir!r}, "
                   "which publishing rewrites; expected a raster elsewhere")
  enhancer = Enhancer(_model_dir(parser, args.model), uncertainty=args.uncertainty)
  with folder_lock(region_dir, "redes tiles"):
    originals, skipped = frames.write_original_frames(
        region_dir, enhancer.bands, dict(args.frames), args.geometry, args.start_year, args.stop_year,
        args.instrument, args.ee_url, dn_scale=args.reflectance_scale, dn_offset=args.reflectance_offset)
    for year, reason in skipped.items():
      print(f"skipped {year}: {reason}", file=sys.stderr)
    result = publish(originals, enhancer, region_dir, args.region_name, args.min_z, args.max_z, args.tile_format,
                     args.frame_delay_ms, args.overwrite, skipped, beam_args=args.beam_arg)
  for label, checks in frame_report(originals, region_dir, enhancer.info, args.instrument).items():
    if checks["outside_training"]:
      print(f"warning: frame {label}: {checks['outside_training']}", file=sys.stderr)
    print(f"frame {label}: consistency {checks.get('consistency')}, texture against bicubic "
          f"{checks.get('texture_vs_bicubic')} ({checks['windows']} windows)")
  print(f"{len(result.frames)} frames ({', '.join(result.frames)}), {result.frames_enhanced} enhanced, "
        f"{result.tiles_written} tiles written, {result.tiles_skipped} already there; viewer: {result.viewer}")
  return region_dir


def _terminated(signum, _frame):
  raise SystemExit(128 + signum)      # unwinds like an interrupt: staging files are removed on the way out


def main(argv=None) -> int:
  signal.signal(signal.SIGTERM, _terminated)
  parser = _parser()
  args = parser.parse_args(argv)
  log_path = os.path.join(tempfile.gettempdir(), f"redes-{args.command}-{os.getpid()}.log")
  ended, region_dir = "failed", ""           # or "refused" (parser.error: nothing was done), or "done"
  try:
    with run_log.to_file(log_path) as log:   # before TensorFlow's import, which prints to descriptor 2
      try:
        region_dir = (_enhance if args.command == "enhance" else _tiles)(parser, args)
        ended = "done"
      except (ValueError, FolderLocked) as err:   # FrameError, RegionError and CredentialsError are ValueErrors
        ended = "refused"
        parser.error(str(err).splitlines()[0])
      except SystemExit as stop:
        ended = "refused" if stop.code == 2 else "failed"
        raise
  finally:
    _keep_log(log_path, ended, region_dir)
  if region_dir:
    print(f"log: {os.path.join(region_dir, PUBLICATION_LOG)} ({log.library_warnings} library warnings)")
  return 0


def _keep_log(log_path: str, ended: str, region_dir: str) -> None:
  """A failed run's log stays where it is, named on the console; a publication's goes to its region folder; a
  refusal's is removed, as is a finished enhancement's (which has no region folder)."""
  if ended == "failed":
    if os.path.exists(log_path):
      print(f"redes: the log of this failed run is {log_path}", file=sys.stderr)
  elif region_dir:
    shutil.move(log_path, os.path.join(region_dir, PUBLICATION_LOG))
  else:
    with contextlib.suppress(FileNotFoundError):
      os.remove(log_path)


if __name__ == "__main__":
  sys.exit(main())

"""The whole DAG through LocalDagRunner on a few real patches: artifacts, caching, and resuming after a failure."""
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pystac
import pytest
import rasterio
from rasterio.transform import from_origin

import local_runner
from redes.ingest import demo_data
from redes.landsat_sensors import VARIANTS
from redes.mlmd import component_names, open_store
from redes.publish.cog import read_values
from redes.publish.stac import check_schemas
from redes.publish.tiles import tiles_for
from tests.fakes.stac_schemas import recorded_extension_schemas

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATCHES = 5
TINY = ["--max-patches-per-split", str(PATCHES), "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "4",
        "--min-z", "11", "--max-z", "13", "--bless-margin-db", "-30", "--bless-tolerance-db", "50",
        "--robustness-tolerance-db", "50", "--texture-ceiling", "100"]


def _run(output_dir, *extra):
  code = local_runner.main(["--output-dir", str(output_dir), *TINY, *extra])
  with open(os.path.join(output_dir, "summary.json")) as f:
    return code, json.load(f)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
  """The real local_runner.py in a subprocess, as a user starts it; its console is kept beside its outputs."""
  output_dir = tmp_path_factory.mktemp("run")
  run = subprocess.run([sys.executable, os.path.join(ROOT, "local_runner.py"), "--output-dir", str(output_dir),
                        *TINY], capture_output=True, text=True, cwd=ROOT, timeout=1200, check=False)
  (output_dir / "console.out").write_text(run.stdout)
  (output_dir / "console.err").write_text(run.stderr)
  with open(os.path.join(output_dir, "summary.json")) as f:
    return output_dir, run.returncode, json.load(f)


def test_the_console_shows_progress_and_results_and_the_log_file_the_rest(first_run):
  output_dir, code, summary = first_run
  err, out = (output_dir / "console.err").read_text(), (output_dir / "console.out").read_text()
  stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
  assert code == 0 and [line for line in err.splitlines() if not re.match(f"{stamp} INFO ", line)] == []
  for component in summary["components"]:                 # progress: every component's start and end, in order
    assert err.index(f"INFO Component {component} is running.") < err.index(f"INFO Component {component} is finished.")
  assert "INFO TileGen: frame scene: consistency" in err and "Warning" not in err + out
  log = summary["log"]
  assert log == {"path": str(output_dir / "run.log"), "library_warnings": log["library_warnings"], "complete": True}
  assert f"log: {log['path']} (every line, with {log['library_warnings']} warnings of libraries not shown above)" in out
  lines = (output_dir / "run.log").read_text()
  assert len(re.findall(f"^{stamp} WARNING ", lines, re.M)) == log["library_warnings"] > 0
  assert "INFO Using deployment config:" in lines and "INFO TileGen: frame scene" in lines
  assert "property_predicate" not in lines


def test_every_component_ran_and_the_summary_says_so(first_run, capsys):
  _, code, summary = first_run
  assert code == 0 and summary["failure"] is None
  assert set(summary["components"]) == {"BicubicBaseline", "PatchExampleGen", "StatisticsGen", "SchemaGen",
                                        "ExampleValidator", "DataGate", "RunParameters", "Trainer",
                                        "ImageEvaluator", "ComparisonFigure", "RunReport", "Pusher", "TileGen"}
  assert all(c["state"] == "complete" for c in summary["components"].values())
  assert summary["examples"] == {"train": PATCHES, "eval": PATCHES, "test": PATCHES}
  assert summary["anomalies"] == {}


def test_examples_are_gzip_tfrecords_with_the_counted_records(first_run):
  from models.input_pipeline import count_records
  _, _, summary = first_run
  uri = summary["components"]["PatchExampleGen"]["outputs"]["Examples"]
  for split in ("train", "eval", "test"):
    files = os.listdir(os.path.join(uri, f"Split-{split}"))
    assert files and all(f.endswith(".gz") for f in files)
    assert count_records(os.path.join(uri, f"Split-{split}", "*")) == PATCHES


def test_metrics_of_model_and_bicubic_and_the_blessing(first_run):
  _, _, summary = first_run
  candidate, bicubic = summary["metrics"]["candidate"], summary["metrics"]["bicubic"]
  for values in (candidate, bicubic):
    assert 30.0 < values["psnr"] < 70.0 and math.isfinite(values["psnr"])
    assert 0.8 < values["ssim"] <= 1.0
    assert 0.0 < values["sam"] < 10.0 and 0.0 < values["ergas"] < 20.0
    assert 0.0 <= values["consistency"] < 0.05 and values["patches"] == PATCHES
  assert candidate["psnr_minus_bicubic"] == pytest.approx(candidate["psnr"] - bicubic["psnr"], abs=2e-4)
  assert "blessed" not in summary["metrics"]                       # the first run has no blessed model yet
  assert 0.0 < summary["metrics"]["target"]["consistency"] < 0.05  # the demo input is blurred before averaging
  assert set(summary["robustness"]) == {"input", *VARIANTS}         # every variant scored and reported
  for row in summary["robustness"].values():
    assert -20.0 < row["cpsnr_minus_bicubic"] < 20.0
    assert 0.0 < row["bicubic_texture"] < 1.0 and row["texture"] >= 0.0
  assert summary["blessed"] is True and summary["blessing_message"] == "blessed"
  assert os.path.exists(os.path.join(summary["pushed_model"], "saved_model.pb"))
  with open(summary["report"]) as f:
    assert "<h2>Blessed</h2>" in f.read()
  from PIL import Image
  with Image.open(summary["comparison_figure"]) as figure:   # 4 columns of 192 px; 4 patches with labels
    assert figure.format == "PNG" and figure.size == (4 * 192, 4 * (192 + 16))


def test_tiles_and_a_georeferenced_geotiff(first_run):
  _, _, summary = first_run
  tiles = summary["tiles"]
  with rasterio.open(tiles["enhanced_geotiff"]) as out, \
      rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), scene="itaipu")) as src:
    assert out.crs.to_epsg() == src.crs.to_epsg() == 32621                    # the clear scene over Itaipu
    assert (out.width, out.height) == (3 * src.width, 3 * src.height) == (1920, 1920)
    assert tuple(out.transform)[:6] == (10.0, 0.0, 732945.0, 0.0, -10.0, -2808495.0)
    assert out.bounds == src.bounds
    enhanced = read_values(out)
    assert 0.03 < float(enhanced.mean()) < 0.07 and np.isfinite(enhanced).all()  # real reflectance, no cloud
  with open(tiles["viewer"]) as f:
    config = json.loads(f.read().split("const CONFIG = ")[1].split(";\n")[0])
  assert config["frames"] == tiles["frames"] == ["scene"]
  checks = tiles["frame_checks"]["scene"]                          # the real Landsat 8 scene, no 10 m truth
  assert checks["sensors"] == ["oli"] and checks["outside_training"] is None and checks["windows"] == 64
  assert 0.0 < checks["consistency"] < 0.05 and checks["texture_vs_bicubic"] > 0.0   # a model of one step
  per_pyramid = len(tiles_for(config["bounds"], 11, 13))
  assert tiles["count"] == 2 * 2 * per_pyramid                     # two layers, each: the frame and its animation
  for layer in ("original", "enhanced"):
    for pyramid in ("scene", "animated"):
      directory = os.path.join(tiles["directory"], layer, pyramid)
      assert sorted(os.listdir(directory)) == ["11", "12", "13", "tilejson.json"]
      assert sum(len(fs) for _, _, fs in os.walk(directory)) == per_pyramid + 1
    assert os.path.getsize(os.path.join(tiles["directory"], f"{layer}.mp4")) > 1000
  model = pystac.Collection.from_file(os.path.join(tiles["directory"], "stac", "collection.json")).get_item(
      "demo-model")
  assert model.properties["mlm:name"] == "residual" and model.properties["redes:scaling_factor"] == 3
  metrics = model.properties["redes:metrics"]                      # RunReport's headline, from this run
  assert metrics["psnr"] == pytest.approx(summary["metrics"]["candidate"]["psnr"], abs=1e-3)
  assert metrics["bicubic_psnr"] == pytest.approx(summary["metrics"]["bicubic"]["psnr"], abs=1e-3)
  assert model.properties["redes:run"] == summary["run_id"]
  assert os.path.samefile(model.assets["model"].get_absolute_href(), summary["pushed_model"])
  assert check_schemas(os.path.join(tiles["directory"], "stac"), recorded_extension_schemas()) == 3


def test_second_run_reuses_everything_and_a_failed_run_resumes(first_run, tmp_path):
  output_dir, _, _ = first_run
  code, summary = _run(output_dir)
  assert code == 0
  assert {c["state"] for c in summary["components"].values()} == {"cached"}

  empty = tmp_path / "no_valid_pixel.tif"         # passes the flag checks, fails in TileGen (nothing to publish)
  with rasterio.open(empty, "w", driver="GTiff", width=30, height=30, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 30.0, 30.0), nodata=np.nan) as dst:
    dst.write(np.full((3, 30, 30), np.nan, np.float32))
  code, summary = _run(output_dir, "--frames", f"2020={empty}")
  assert code == 1 and "no frame to publish for region 'demo': every year was skipped" in summary["failure"]
  assert summary["components"]["TileGen"]["state"] == "failed"

  code, summary = _run(output_dir, "--region-name", "resumed")
  assert code == 0
  states = {name: c["state"] for name, c in summary["components"].items()}
  assert states.pop("TileGen") == "complete"
  assert set(states.values()) == {"cached"}
  assert summary["tiles"]["directory"].endswith("/resumed")


def test_warm_start_retrains_from_the_latest_blessed_model(first_run):
  from redes.model_info import latest_served_model
  output_dir, _, _ = first_run
  served = latest_served_model(os.path.join(output_dir, "serving"))
  code, summary = _run(output_dir, "--warm-start")
  assert code == 0
  assert summary["components"]["Trainer"]["state"] == "complete"
  model_run = summary["components"]["Trainer"]["outputs"]["ModelRun"]
  with open(os.path.join(model_run, "training_history.json")) as f:
    assert json.load(f)["warm_start"] == served
  candidate, blessed = summary["metrics"]["candidate"], summary["metrics"]["blessed"]
  assert candidate["psnr_minus_blessed"] == pytest.approx(candidate["psnr"] - blessed["psnr"], abs=2e-4)
  assert summary["blessed"] is True                                # --bless-tolerance-db 50 in TINY


def _executions(output_dir, component: str):
  store = open_store(str(output_dir / "metadata.sqlite"))
  names = component_names(store)
  return [e for e in store.get_executions() if names.get(e.id) == component]


def _killed_at(output_dir, log_path, component: str, pattern: str, extra, delay: float = 0.0):
  """Runs local_runner.py and kills it (SIGKILL) `delay` seconds after it prints a line matching `pattern`; returns
  the execution of `component` that the kill left RUNNING, and the folders the launcher had made for it."""
  summary = output_dir / "summary.json"
  summary_before = summary.read_bytes() if summary.exists() else None   # an earlier run's
  with open(log_path, "w") as log:
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "local_runner.py"), "--output-dir", str(output_dir),
                             *TINY, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for line in proc.stdout:
      log.write(line)
      if re.search(pattern, line):
        time.sleep(delay)
        proc.kill()
        break
    proc.wait()
  assert proc.returncode == -9, log_path.read_text()[-2000:]
  assert (summary.read_bytes() if summary.exists() else None) == summary_before     # the killed run wrote none
  (killed,) = [e for e in _executions(output_dir, component) if e.last_known_state == e.RUNNING]
  left = list((output_dir / "pipeline_root" / component).glob(f"*/{killed.id}"))
  assert left                                                         # the launcher made them before running it
  return killed, left


def _abandoned(output_dir, component: str, killed, left) -> None:
  (abandoned,) = [e for e in _executions(output_dir, component) if e.id == killed.id]
  assert abandoned.last_known_state == abandoned.CANCELED
  assert "killed" in abandoned.custom_properties["redes_abandoned"].string_value
  assert not any(p.exists() for p in left)


def test_a_run_killed_in_each_long_component_resumes_without_redoing_finished_ones(tmp_path):
  output_dir = tmp_path / "killed"
  long_training = ["--steps-per-epoch", "1000"]  # long enough to be killed in the middle of training
  examples_killed = _killed_at(output_dir, tmp_path / "examples.log", "PatchExampleGen",
                               r"PatchExampleGen: split test", long_training)   # its Beam pipeline is being built
  trainer_killed = _killed_at(output_dir, tmp_path / "trainer.log", "Trainer", r"Trainer: 5 train / 5 eval examples",
                              long_training, delay=2)                # in the middle of training
  _abandoned(output_dir, "PatchExampleGen", *examples_killed)
  assert {p.parent.name for p in trainer_killed[1]} >= {"model", "model_run"}
  evaluator_killed = _killed_at(output_dir, tmp_path / "evaluator.log", "ImageEvaluator",
                                r"ImageEvaluator: scoring the test split", long_training)
  _abandoned(output_dir, "Trainer", *trainer_killed)

  code, summary = _run(output_dir, *long_training)
  assert code == 0
  _abandoned(output_dir, "ImageEvaluator", *evaluator_killed)
  states = {name: c["state"] for name, c in summary["components"].items()}
  assert {states[n] for n in ("PatchExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "DataGate",
                              "BicubicBaseline", "RunParameters", "Trainer")} == {"cached"}
  assert {states[n] for n in ("ImageEvaluator", "Pusher", "TileGen")} == {"complete"}
  assert summary["examples"] == {"train": PATCHES, "eval": PATCHES, "test": PATCHES}
  assert summary["tiles"]["count"] > 0

  more_tiles = [*long_training, "--max-z", "15"]   # TileGen runs again, long enough to be killed while tiling
  killed, left = _killed_at(output_dir, tmp_path / "tiling.log", "TileGen", r"enhancing \S+/TileGen/tiles/", more_tiles,
                            delay=1)                                # its original frame is written by then
  partial = output_dir / "pipeline_root" / "TileGen" / "tiles" / str(killed.id)
  assert partial in left and any(partial.rglob("*.tif"))             # half-published when it was killed
  code, summary = _run(output_dir, *more_tiles)
  assert code == 0
  states = {name: c["state"] for name, c in summary["components"].items()}
  assert states.pop("TileGen") == "complete" and set(states.values()) == {"cached"}
  _abandoned(output_dir, "TileGen", killed, left)


def test_a_full_disk_stops_the_run_in_one_line_and_it_resumes_once_space_is_freed(tmp_path, capsys):
  disk = tmp_path / "disk"
  disk.mkdir()
  mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(disk)], capture_output=True,
                           text=True, check=False)
  if mounted.returncode:
    pytest.skip(f"this machine lets this test mount no small filesystem: {mounted.stderr.strip()}")
  try:  # 20 MB hold every output before TileGen's (about 9 MB), not TileGen's (about 37 MB)
    output_dir = disk / "run"
    capsys.readouterr()
    code, summary = _run(output_dir)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 1
    full = re.fullmatch(r"local_runner.py: error: no space left on the device holding (\S+) \(TileGen stopped; .*\): "
                        r"free some space and run the same command again", err)
    assert full and full.group(1).startswith(str(output_dir / "pipeline_root" / "TileGen")), err
    assert summary["failure"] == err.removeprefix("local_runner.py: error: ")
    (failed,) = _executions(output_dir, "TileGen")
    assert failed.last_known_state == failed.FAILED
    store = open_store(str(output_dir / "metadata.sqlite"))
    assert not [e for e in store.get_events_by_execution_ids([failed.id]) if e.type == e.OUTPUT]
    assert not list((output_dir / "pipeline_root" / "TileGen").glob(f"*/{failed.id}"))
    assert not list(output_dir.rglob("*.part"))

    subprocess.run(["mount", "-o", "remount,size=200m", str(disk)], check=True)
    code, summary = _run(output_dir)
    assert code == 0, summary["failure"]
    states = {name: c["state"] for name, c in summary["components"].items()}
    assert states.pop("TileGen") == "complete" and set(states.values()) == {"cached"}
    assert summary["tiles"]["count"] > 0
  finally:
    subprocess.run(["umount", "--lazy", str(disk)], check=True)   # the store and GDAL may still hold files there


def test_damaged_examples_are_named_and_rebuilt_on_request(first_run, capsys):
  output_dir, _, summary = first_run
  train_dir = os.path.join(summary["components"]["PatchExampleGen"]["outputs"]["Examples"], "Split-train")
  damaged = os.path.join(train_dir, sorted(os.listdir(train_dir))[0])
  with open(damaged, "r+b") as f:                                   # one flipped byte in the middle of the file
    f.seek(os.path.getsize(damaged) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 0xFF]))
  capsys.readouterr()
  code, summary = _run(output_dir, "--rebuild", "Trainer")          # the Trainer reads the examples again
  err = capsys.readouterr().err.strip().splitlines()[-1]
  assert code == 1 and summary["components"]["Trainer"]["state"] == "failed"
  assert f"Trainer: the train examples of PatchExampleGen are damaged: {damaged} does not hold the bytes" in err
  assert "--rebuild PatchExampleGen" in err

  code, summary = _run(output_dir, "--rebuild", "PatchExampleGen")
  assert code == 0, summary["failure"]
  states = {name: c["state"] for name, c in summary["components"].items()}
  assert states["PatchExampleGen"] == states["Trainer"] == states["TileGen"] == "complete"
  assert states["BicubicBaseline"] == "cached"                       # nothing of it depends on the examples
  assert summary["components"]["PatchExampleGen"]["outputs"]["Examples"] != os.path.dirname(train_dir)

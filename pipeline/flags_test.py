import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import rasterio

from pipeline import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _error(capsys, argv):
  with pytest.raises(SystemExit) as exit_info:
    flags.parse_run_config(argv, prog="local_runner.py")
  err = capsys.readouterr().err
  assert exit_info.value.code == 2
  assert err.count("\n") == 1, err
  return err


@pytest.mark.parametrize("argv, expected", [
    (["--epochs", "-1"], "argument --epochs: '-1' is not a positive integer"),
    (["--scaling-factor", "2.5"], "argument --scaling-factor: '2.5' is not one of 2, 3, 4"),
    (["--source", "landsat-archive"], "argument --source: invalid choice: 'landsat-archive'"),
    (["--kernel-size", "100"], "argument --kernel-size: 100 is not a multiple of the scaling factor 3"),
    (["--kernel-size", "12"], "argument --kernel-size: 12 is below 24, the smallest patch the evaluator scores at "
                              "scale 3 (a 6-pixel border on each side and SSIM's 11-pixel window inside)"),
    (["--min-z", "15", "--max-z", "12"], "argument --min-z: 15 is above --max-z 12"),
    (["--max-z", "19"], "argument --max-z: '19' is not a zoom level 0..18"),
    (["--region-name", "../etc"], "argument --region-name: '../etc' is not a plain name"),
    (["--learning-rate", "zero"], "argument --learning-rate: 'zero' is not a positive number"),
    (["--train-sensors", "tm,mss"], "argument --train-sensors: 'tm,mss' is not a list of distinct sensors among "
     "tm, etm, oli"),
    (["--degradation", "noise"], "argument --degradation: invalid choice: 'noise'"),
    (["--texture-ceiling", "0"], "argument --texture-ceiling: '0' is not a positive number"),
    (["--max-pair-shift", "-1"], "argument --max-pair-shift: '-1' is not a positive number"),
    (["--init-weights", "w.h5"], "argument --init-weights: the original's weights fit --model srgan --norm-range "
     "0,1; got --model residual --norm-range standardize"),
    (["--init-weights", "/no/w.h5", "--model", "srgan", "--norm-range", "0,1"],
     "argument --init-weights: original generator weights '/no/w.h5' do not exist"),
])
def test_bad_values_give_one_line_and_exit_2(capsys, tmp_path, argv, expected):
  assert expected in _error(capsys, argv + ["--output-dir", str(tmp_path)])


def test_unwritable_output_dir(capsys, tmp_path):
  blocked = tmp_path / "file"
  blocked.write_text("not a directory")
  err = _error(capsys, ["--output-dir", str(blocked / "run")])
  assert f"argument --output-dir: '{blocked / 'run'}' is not a writable directory" in err


def test_defaults_come_from_configs(tmp_path):
  config, _ = flags.parse_run_config(["--output-dir", str(tmp_path), "--epochs", "3", "--bands", "rgbn"])
  assert config.training.epochs == 3 and config.training.batch_size == 16
  assert config.data.bands == "rgbn" and config.data.patch_size == 96 and config.data.scaling_factor == 3
  assert config.output_dir == str(tmp_path)


def test_local_runner_rejects_bad_input_before_any_work(tmp_path):
  result = subprocess.run([sys.executable, os.path.join(ROOT, "local_runner.py"), "--epochs", "-1",
                           "--output-dir", str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
  assert result.returncode == 2
  assert result.stderr == "local_runner.py: error: argument --epochs: '-1' is not a positive integer\n"


def test_frames_are_read_before_any_work(capsys, tmp_path):
  notes = tmp_path / "notes.tif"
  notes.write_text("not a raster")
  one_band = tmp_path / "one.tif"
  with rasterio.open(one_band, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32") as dst:
    dst.write(np.zeros((1, 4, 4), np.float32))
  base = ["--output-dir", str(tmp_path / "run")]
  assert f"argument --frames: 2019='{notes}' is not a raster GDAL can read" in _error(
      capsys, [*base, "--frames", f"2019={notes}"])
  assert f"argument --frames: 2020='{one_band}' has 1 bands; the model expects 3 (red, green, blue)" in _error(
      capsys, [*base, "--frames", f"2020={one_band}"])
  outside = tmp_path / "outside.geojson"
  outside.write_text('{"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}')
  scene = tmp_path / "scene.tif"
  with rasterio.open(scene, "w", driver="GTiff", width=4, height=4, count=3, dtype="float32", crs="EPSG:32616",
                     transform=rasterio.transform.from_origin(452475, 3408645, 30, 30)) as dst:
    dst.write(np.zeros((3, 4, 4), np.float32))
  assert "argument --geometry: the geometry (bounds (10.0, 10.0, 11.0, 11.0) in WGS84) lies outside the imagery" in \
      _error(capsys, [*base, "--frames", f"2019={scene}", "--geometry", str(outside)])
  assert not (tmp_path / "run").exists()


def test_a_second_run_on_one_output_folder_is_refused_naming_the_first(tmp_path):
  holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
  try:
    (tmp_path / ".run.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(),
                                                    "command": "local_runner.py --epochs 40",
                                                    "started": "2026-12-01T09:00:00+00:00"}))
    started = time.time()
    result = subprocess.run([sys.executable, os.path.join(ROOT, "local_runner.py"), "--output-dir",
                             str(tmp_path / "run")], capture_output=True, text=True, timeout=120)
  finally:
    holder.kill()
    holder.wait()
  assert result.returncode == 2 and result.stderr == (
      f"local_runner.py: error: argument --output-dir: {tmp_path / 'run'} is in use by another local_runner.py run: "
      f"pid {holder.pid} on {socket.gethostname()}, started 2026-12-01T09:00:00+00:00 (local_runner.py --epochs 40); "
      "wait for it or stop it\n")
  assert not (tmp_path / "run").exists() and time.time() - started < 30        # refused before TFX loads


def test_earthengine_settings_are_checked_before_any_request(capsys, tmp_path, monkeypatch):
  monkeypatch.delenv("EE_PRIVATE_KEY", raising=False)
  monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
  regions = os.path.join(ROOT, "regions")
  geojsons = [os.path.join(regions, f"{s}.geojson") for s in ("train", "eval", "test")]
  base = ["--source", "earthengine", "--output-dir", str(tmp_path)]
  assert "--source earthengine needs three region files" in _error(capsys, base)
  assert "end_date 2019-01-01 is before init_date 2019-06-01" in _error(
      capsys, base + ["--geojsons", *geojsons, "--init-date", "2019-06-01", "--end-date", "2019-01-01"])
  assert "no Earth Engine credentials" in _error(capsys, base + ["--geojsons", *geojsons])
  assert "unknown slug 'landsat3'" in _error(capsys, base + ["--geojsons", *geojsons, "--slugs", "landsat3",
                                                             "sentinel2"])


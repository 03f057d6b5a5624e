"""`redes tiles` and `redes enhance` end to end on real imagery: yearly frames from local rasters in two CRSs and a
year without imagery, published with a served bicubic model (COGs, tiles, animated tiles, TileJSON, MP4, GIF)."""
import copy
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

import imageio.v2 as imageio
import numpy as np
import pystac
import pystac.errors
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin
from rasterio.warp import Resampling, calculate_default_transform, reproject

from pipeline import cli
from redes.ingest import demo_data
from redes.publish.cog import read_values
from redes.publish.manifest import model_identity
from redes.publish.stac import check_schemas
from redes.publish.stretch import Stretch, region_stretch
from redes.publish.tiles import tiles_for
from tests.fakes.stac_schemas import recorded_extension_schemas

DELAY_MS = 700
ZOOMS = ("--min-z", "11", "--max-z", "12")


def _write(path, data, crs, transform):
  with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                     dtype="float32", crs=crs, transform=transform, nodata=np.nan) as dst:
    dst.write(data.astype(np.float32))
  return str(path)


@pytest.fixture(scope="module")
def yearly_rasters(demo_dir, tmp_path_factory):
  """2019: a crop of the real Landsat 8 scene (EPSG:32616); 2020: the same ground 30 % brighter, in web mercator;
  2021: no valid pixel."""
  folder = tmp_path_factory.mktemp("frames")
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir)) as src:
    window = rasterio.windows.Window(100, 100, 240, 200)
    crop, crs, transform = src.read(window=window), src.crs, src.window_transform(window)
  paths = {"2019": _write(folder / "2019.tif", crop, crs, transform)}
  dst_transform, width, height = calculate_default_transform(crs, "EPSG:3857", 240, 200,
                                                             *rasterio.transform.array_bounds(200, 240, transform))
  mercator = np.full((3, height, width), np.nan, np.float32)
  reproject(crop * 1.3, mercator, src_transform=transform, src_crs=crs, dst_transform=dst_transform,
            dst_crs="EPSG:3857", resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
  paths["2020"] = _write(folder / "2020.tif", mercator, "EPSG:3857", dst_transform)
  paths["2021"] = _write(folder / "2021.tif", np.full_like(crop, np.nan), crs, transform)
  return paths


def _tiles_args(model, folder, rasters, *extra):
  return ["tiles", "--model", model, "--folder-path", str(folder), "--region-name", "pensacola",
          "--frames", *[f"{y}={p}" for y, p in rasters.items()], *ZOOMS, "--frame-delay-ms", str(DELAY_MS), *extra]


@pytest.fixture(scope="module")
def published(bicubic_model_dir, yearly_rasters, tmp_path_factory):
  folder = tmp_path_factory.mktemp("published")
  assert cli.main(_tiles_args(bicubic_model_dir, folder, yearly_rasters)) == 0
  return folder / "pensacola"


def test_frames_share_one_grid_and_the_enhanced_cogs_refine_it(published):
  with rasterio.open(published / "original" / "2019.tif") as a, rasterio.open(published / "original" / "2020.tif") as b:
    assert a.crs.to_epsg() == b.crs.to_epsg() == 32616
    assert a.transform == b.transform == from_origin(452475.0 + 3000, 3408645.0 - 3000, 30.0, 30.0)
    assert (a.width, a.height) == (b.width, b.height) == (240, 200)
    ratio = np.nanmedian(read_values(b) / read_values(a))   # 2020 is 2019 x 1.3, back from web mercator
    assert 1.25 < ratio < 1.35
  with rasterio.open(published / "enhanced" / "2019.tif") as out:
    assert out.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert (out.width, out.height) == (720, 600) and out.transform.a == 10.0
    assert out.bounds == a.bounds
  assert not (published / "original" / "2021.tif").exists()        # the year without imagery was skipped
  assert not list(published.rglob("*.part"))


def test_every_year_has_a_pyramid_and_animated_tiles_show_year_i_in_frame_i(published):
  viewer_config = json.loads((published / "index.html").read_text().split("const CONFIG = ")[1].split(";\n")[0])
  assert viewer_config["frames"] == ["2019", "2020"] and viewer_config["delay_ms"] == DELAY_MS
  expected = tiles_for(viewer_config["bounds"], 11, 12)
  for layer in ("original", "enhanced"):
    for pyramid in ("2019", "2020", "animated"):
      pngs = list((published / layer / pyramid).rglob("*.png"))
      assert len(pngs) == len(expected)
      tilejson = json.loads((published / layer / pyramid / "tilejson.json").read_text())
      assert tilejson["tiles"] == ["{z}/{x}/{y}.png"] and (tilejson["minzoom"], tilejson["maxzoom"]) == (11, 12)
  tile = expected[-1]
  name = f"{tile.z}/{tile.x}/{tile.y}.png"
  with Image.open(published / "enhanced" / "animated" / name) as animated:
    assert animated.n_frames == 2
    for index, year in enumerate(("2019", "2020")):
      animated.seek(index)
      assert animated.info["duration"] == DELAY_MS
      with Image.open(published / "enhanced" / year / name) as still:
        np.testing.assert_array_equal(np.asarray(animated.convert("RGBA")), np.asarray(still.convert("RGBA")))


def test_every_year_is_drawn_with_the_regions_stretch(published):
  record = json.loads((published / "original" / "2019" / "tilejson.json").read_text())["redes:stretch"]
  assert json.loads((published / "enhanced" / "animated" / "tilejson.json").read_text())["redes:stretch"] == record
  expected = region_stretch([str(published / "original" / f"{year}.tif") for year in ("2019", "2020")])
  np.testing.assert_allclose(record["low"], expected.low)
  np.testing.assert_allclose(record["high"], expected.high)
  assert record["percentiles"] == [2.0, 98.0] and all(0 <= lo < hi < 1 for lo, hi in zip(record["low"],
                                                                                           record["high"]))
  with rasterio.open(published / "original" / "2019.tif") as src:     # brighter than a fixed 0..0.3 stretch
    reflectance = read_values(src)
  drawn = Stretch.from_record(record).to_bytes(reflectance)
  valid = np.isfinite(reflectance).all(axis=0)
  assert np.percentile(drawn[:, valid], 50) > np.percentile(np.clip(reflectance[:, valid] / 0.3 * 255, 0, 255), 50)


def test_a_stac_collection_lists_every_year_with_its_cogs(published):
  collection = pystac.Collection.from_file(str(published / "stac" / "collection.json"))
  items = sorted(collection.get_items(), key=lambda item: item.id)
  assert [item.id for item in items] == ["pensacola-2019", "pensacola-2020", "pensacola-model"]
  items = items[:2]
  assert items[0].properties["start_datetime"] == "2019-01-01T00:00:00Z" and items[0].datetime is None
  for item in items:
    year = item.id.split("-")[1]
    for layer in ("original", "enhanced"):
      asset = item.assets[layer]
      path = asset.get_absolute_href()
      assert path == str(published / layer / f"{year}.tif") and os.path.exists(path)
      with rasterio.open(path) as src:
        assert asset.extra_fields["proj:code"] == src.crs.to_string()
        assert asset.extra_fields["proj:shape"] == [src.height, src.width]
        assert asset.extra_fields["raster:bands"][0]["spatial_resolution"] == pytest.approx(abs(src.transform.a))
        assert {k: v for k, v in asset.extra_fields["raster:bands"][0].items() if k != "spatial_resolution"} == {
            "nodata": 0, "data_type": "uint16", "scale": 2.75e-5, "offset": -0.2, "unit": "reflectance"}
    assert item.bbox == pytest.approx(json.loads((published / "original" / year / "tilejson.json").read_text())[
        "bounds"])
  assert not list(published.glob(".stac-*-staging"))


def test_every_stac_file_is_valid_against_the_core_and_extension_schemas_and_a_broken_one_is_named(published,
                                                                                                   tmp_path):
  stac_dir, schemas = published / "stac", recorded_extension_schemas()
  declared = {uri for path in stac_dir.rglob("*.json") for uri in json.loads(path.read_text()).get(
      "stac_extensions", [])}
  assert declared == {"https://stac-extensions.github.io/projection/v2.0.0/schema.json",
                      "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
                      "https://stac-extensions.github.io/mlm/v1.4.0/schema.json"} and declared <= set(schemas)
  assert check_schemas(str(stac_dir)) == 4                    # the Collection, two years, the model
  assert check_schemas(str(stac_dir), schemas) == 4
  item = json.loads((stac_dir / "pensacola-2019" / "pensacola-2019.json").read_text())
  no_interval = copy.deepcopy(item)
  no_interval["properties"].pop("start_datetime")             # no datetime, and no interval instead of it
  flat_shape = copy.deepcopy(item)
  flat_shape["assets"]["enhanced"]["proj:shape"] = [600]      # a shape has a height and a width
  for broken, schema in ((no_interval, "item-spec/json-schema/item.json"), (flat_shape, "projection/v2.0.0")):
    item_path = tmp_path / schema.split("/")[0] / "stac" / "pensacola-2019" / "pensacola-2019.json"
    item_path.parent.mkdir(parents=True)
    item_path.write_text(json.dumps(broken))
    with pytest.raises(pystac.errors.STACValidationError, match=f"Feature at {item_path} with ID pensacola-2019 "
                                                                f"against schema at .*{schema}"):
      check_schemas(str(item_path.parent.parent), schemas)
  model = json.loads((stac_dir / "pensacola-model" / "pensacola-model.json").read_text())
  assert [band["name"] for band in model["assets"]["model"]["raster:bands"]] == ["red", "green", "blue"]


def test_the_catalog_describes_the_model_with_the_mlm_extension(published, bicubic_model_dir):
  item = pystac.Collection.from_file(str(published / "stac" / "collection.json")).get_item("pensacola-model")
  assert "https://stac-extensions.github.io/mlm/v1.4.0/schema.json" in item.stac_extensions
  props = item.properties
  assert (props["mlm:name"], props["mlm:tasks"], props["mlm:framework"]) == ("bicubic", ["super-resolution"],
                                                                            "TensorFlow")
  (model_input,), (model_output,) = props["mlm:input"], props["mlm:output"]
  assert model_input["bands"] == ["red", "green", "blue"] and model_input["input"]["shape"] == [-1, -1, -1, 3]
  assert model_output["name"] == "sr_reflectance" and model_output["result"]["data_type"] == "float32"
  assert props["redes:scaling_factor"] == 3 and props["redes:model_identity"] == model_identity(bicubic_model_dir)
  assert "redes:metrics" not in props and "redes:run" not in props     # outside a pipeline run: none to give
  asset = item.assets["model"]
  assert asset.roles == ["mlm:model"] and asset.extra_fields["mlm:artifact_type"] == "tf.saved_model.save"
  assert os.path.samefile(asset.get_absolute_href(), bicubic_model_dir)


def test_timelapse_video_and_gif_have_one_frame_per_year_at_the_asked_delay(published):
  reader = imageio.get_reader(published / "enhanced.mp4", format="FFMPEG")
  assert reader.count_frames() == 2 and reader.get_meta_data()["fps"] == pytest.approx(1000 / DELAY_MS, rel=1e-2)
  with Image.open(published / "enhanced.gif") as gif:
    assert gif.n_frames == 2 and gif.info["duration"] == DELAY_MS


def test_a_rerun_keeps_finished_tiles_unless_overwrite(published, bicubic_model_dir, yearly_rasters, capsys):
  folder = published.parent
  assert cli.main(_tiles_args(bicubic_model_dir, folder, yearly_rasters)) == 0
  assert ", 0 tiles written," in capsys.readouterr().out
  assert cli.main(_tiles_args(bicubic_model_dir, folder, {"2019": yearly_rasters["2019"]}, "--overwrite")) == 0
  assert ", 0 tiles written," not in capsys.readouterr().out


def _published_state(region):
  """{relative path: modification time} of every output under a published region."""
  return {str(p.relative_to(region)): p.stat().st_mtime_ns for p in region.rglob("*") if p.is_file()}


def _run_counts(capsys) -> tuple[int, int]:
  """(frames enhanced, tiles written) that `redes tiles` printed, on the line before the log's."""
  line, log = capsys.readouterr().out.strip().splitlines()[-2:]
  assert log.startswith("log: ") and log.endswith(" library warnings)")
  return int(line.split(" enhanced, ")[0].rsplit(" ", 1)[1]), int(line.split(" tiles written")[0].rsplit(" ", 1)[1])


def test_a_rerun_rebuilds_exactly_what_is_stale(bicubic_model_dir, directional_model_dir, yearly_rasters, tmp_path,
                                                capsys):
  folder, region = tmp_path / "out", tmp_path / "out" / "pensacola"
  two_years = {"2019": yearly_rasters["2019"], "2020": yearly_rasters["2020"]}
  assert cli.main(_tiles_args(bicubic_model_dir, folder, {"2019": yearly_rasters["2019"]})) == 0
  assert _run_counts(capsys)[0] == 1
  tiles_per_frame = len(list((region / "original" / "2019").rglob("*.png")))
  assert tiles_per_frame > 0

  assert cli.main(_tiles_args(bicubic_model_dir, folder, two_years)) == 0          # a year is added
  enhanced, written = _run_counts(capsys)
  assert enhanced == 1 and written == 2 * tiles_per_frame + 2 * tiles_per_frame     # 2020's pyramids, animations
  with Image.open(next((region / "enhanced" / "animated").rglob("*.png"))) as animated:
    assert animated.n_frames == 2
  assert json.loads((region / "index.html").read_text().split("const CONFIG = ")[1].split(";\n")[0])["frames"] == \
      ["2019", "2020"]

  before = _published_state(region)
  assert cli.main(_tiles_args(bicubic_model_dir, folder, two_years)) == 0          # nothing changed
  assert _run_counts(capsys) == (0, 0)
  after = _published_state(region)
  rewritten = {p for p in after if after[p] != before[p]}
  remade = ("original/20", "leaflet/", "stac/")        # the originals are made again from the rasters
  assert all(p.endswith(("tilejson.json", "index.html", "manifest.json", "publish.log")) or p.startswith(remade)
             for p in rewritten), rewritten

  brighter = tmp_path / "2019_brighter.tif"                                           # one year's pixels change
  with rasterio.open(yearly_rasters["2019"]) as src:
    _write(brighter, src.read() * 1.2, src.crs, src.transform)
  assert cli.main(_tiles_args(bicubic_model_dir, folder, {**two_years, "2019": str(brighter)})) == 0
  assert _run_counts(capsys) == (1, 2 * tiles_per_frame + 2 * tiles_per_frame)
  with rasterio.open(region / "enhanced" / "2019.tif") as src:
    assert np.nanmean(read_values(src)) == pytest.approx(1.2 * np.nanmean(rasterio.open(yearly_rasters["2019"]).read()),
                                                   rel=0.02)
  assert (region / "enhanced" / "2020.tif").stat().st_mtime_ns == after["enhanced/2020.tif"]

  assert cli.main(_tiles_args(directional_model_dir, folder, two_years)) == 0       # a new model
  enhanced, written = _run_counts(capsys)
  assert enhanced == 2 and written == 2 * tiles_per_frame + 2 * tiles_per_frame + tiles_per_frame  # 2019 original too

  assert cli.main(_tiles_args(directional_model_dir, folder, {"2020": yearly_rasters["2020"]})) == 0  # one removed
  assert _run_counts(capsys)[0] == 1                # 2020 now sets the region's grid, so its frame is made again
  assert not (region / "enhanced" / "2019.tif").exists() and not (region / "enhanced" / "2019").exists()
  assert not (region / "original" / "2019").exists() and (region / "enhanced" / "2020").is_dir()
  with Image.open(next((region / "enhanced" / "animated").rglob("*.png"))) as animated:
    assert getattr(animated, "n_frames", 1) == 1


def test_enhance_command_keeps_crs_and_bounds(bicubic_model_dir, yearly_rasters, tmp_path):
  out = tmp_path / "sr.tif"
  assert cli.main(["enhance", yearly_rasters["2020"], str(out), "--model", bicubic_model_dir]) == 0
  with rasterio.open(yearly_rasters["2020"]) as src, rasterio.open(out) as dst:
    assert dst.crs == src.crs and dst.bounds == src.bounds and dst.width == 3 * src.width


def _one_line_exit(args, capsys) -> str:
  with pytest.raises(SystemExit) as exit_info:
    cli.main(args)
  err = capsys.readouterr().err
  assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1, err
  return err


def test_enhance_refuses_its_input_as_output_a_non_raster_and_a_scene_too_large_for_the_disk(
    bicubic_model_dir, yearly_rasters, tmp_path, capsys):
  scene = tmp_path / "scene.tif"
  scene.write_bytes(open(yearly_rasters["2019"], "rb").read())
  before = scene.read_bytes()
  assert "argument output: " in _one_line_exit(["enhance", str(scene), str(scene), "--model", bicubic_model_dir],
                                               capsys)
  assert scene.read_bytes() == before
  notes = tmp_path / "notes.tif"
  notes.write_text("not a raster")
  assert "is not a raster GDAL can read" in _one_line_exit(
      ["enhance", str(notes), str(tmp_path / "o.tif"), "--model", bicubic_model_dir], capsys)
  huge = tmp_path / "huge.tif"
  with rasterio.open(huge, "w", driver="GTiff", width=200_000, height=200_000, count=3, dtype="float32",
                     tiled=True, sparse_ok=True, BIGTIFF="YES", crs="EPSG:32616", transform=from_origin(0, 0, 30, 30)):
    pass                                                        # a sparse file: no pixel written
  err = _one_line_exit(["enhance", str(huge), str(tmp_path / "o.tif"), "--model", bicubic_model_dir], capsys)
  assert "enhances to 600000 x 600000 px, about 5760.0 GB while writing" in err
  assert sorted(p.name for p in tmp_path.iterdir()) == ["huge.tif", "notes.tif", "scene.tif"]


def _cli_until(args, marker: str) -> subprocess.Popen:
  """Starts `python -m pipeline.cli ARGS` and returns it once it has printed a line with `marker`."""
  run = subprocess.Popen([sys.executable, "-m", "pipeline.cli", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
  for line in run.stdout:
    if marker in line:
      return run
  raise AssertionError(f"{marker!r} never printed; exit {run.wait()}")


def test_an_interrupted_publication_keeps_what_it_finished(bicubic_model_dir, yearly_rasters, tmp_path, capsys):
  rasters = {year: yearly_rasters[year] for year in ("2019", "2020")}
  args = _tiles_args(bicubic_model_dir, tmp_path, rasters)
  run = _cli_until(args, " INFO enhanced 20")    # the first frame's COG is written: kill before the second one's
  run.kill()
  run.wait()
  region = tmp_path / "pensacola"
  parts = [json.loads(p.read_text()) for p in (region / ".manifest-parts").glob("*.json")]
  (first,) = [p["key"] for p in parts if p["key"].startswith("enhanced/")]
  assert run.returncode == -signal.SIGKILL and first in ("enhanced/2019.tif", "enhanced/2020.tif")
  assert cli.main(args) == 0
  assert "(2019, 2020), 1 enhanced, " in capsys.readouterr().out             # only the frame it had not finished
  entries = json.loads((region / "manifest.json").read_text())["entries"]
  assert {"enhanced/2019.tif", "enhanced/2020.tif", "enhanced/2019", "enhanced/animated"} <= set(entries)
  assert not list((region / ".manifest-parts").glob("*.json"))              # merged into manifest.json
  assert cli.main(args) == 0 and "(2019, 2020), 0 enhanced, 0 tiles written, " in capsys.readouterr().out


def _worker_processes() -> set[str]:
  return set(subprocess.run(["pgrep", "-f", "apache_beam.runners.worker.sdk_worker_main"], capture_output=True,
                            text=True, check=False).stdout.split())


@pytest.mark.parametrize("mode", ["multi_threading", "multi_processing"])
def test_a_sigterm_stops_beams_workers_and_leaves_no_staging_file(bicubic_model_dir, yearly_rasters, tmp_path,
                                                                   mode):
  rasters = {year: yearly_rasters[year] for year in ("2019", "2020")}
  args = [*_tiles_args(bicubic_model_dir, tmp_path, rasters), "--max-z", "15", "--beam-arg=--runner=FnApiRunner",
          "--beam-arg=--direct_num_workers=2", f"--beam-arg=--direct_running_mode={mode}"]
  workers_before = _worker_processes()
  run = _cli_until(args, "enhanced 20")            # logged by a worker, while the other works on
  workers = _worker_processes() - workers_before
  run.send_signal(signal.SIGTERM)
  assert run.wait(timeout=120) == 128 + signal.SIGTERM
  assert bool(workers) == (mode == "multi_processing")               # each worker process: a shell and its python
  deadline = time.time() + 30
  while _worker_processes() & workers and time.time() < deadline:
    time.sleep(0.2)
  assert not _worker_processes() & workers                                  # the workers are gone too
  files = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
  time.sleep(1)
  assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == files   # nothing still writes
  assert not [p for p in files if ".part" in p.name]


def test_the_console_shows_redes_lines_and_the_publication_log_the_rest(bicubic_model_dir, yearly_rasters,
                                                                         tmp_path):
  temporary = tmp_path / "tmp"
  temporary.mkdir()
  env = {**os.environ, "TMPDIR": str(temporary)}
  args = _tiles_args(bicubic_model_dir, tmp_path / "out", {"2019": yearly_rasters["2019"]})
  run = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, env=env,
                       check=True)
  log = tmp_path / "out" / "pensacola" / "publish.log"
  assert run.stdout.strip().splitlines()[-1] == f"log: {log} (0 library warnings)"
  assert run.stderr and all(" INFO " in line for line in run.stderr.splitlines())   # Redes' own lines only
  assert " INFO enhanced 2019 into " in run.stderr and "tensorflow" not in run.stderr.lower()
  native = re.compile(r"^[IWEF]\d{4} [\d:.]+ +\d+ \w+\.cc:\d+\] ", re.MULTILINE)   # absl's prefix, any CPU
  assert native.search(log.read_text()) and not native.search(run.stderr)   # TensorFlow's native lines: the log
  assert " INFO enhanced 2019 into " in log.read_text() and not list(temporary.iterdir())
  refused = subprocess.run([sys.executable, "-m", "pipeline.cli", *_tiles_args(
      bicubic_model_dir, tmp_path / "other", {"2019": str(tmp_path / "missing.tif")})], capture_output=True,
      text=True, env=env, check=False)
  assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1 and "missing.tif" in refused.stderr
  assert not (tmp_path / "other").exists() and not list(temporary.iterdir())     # no log, nor anything else


def test_a_region_being_published_is_refused_and_a_sigterm_leaves_no_staging_file(bicubic_model_dir, demo_dir,
                                                                                   tmp_path, capsys):
  holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
  try:
    (tmp_path / ".pensacola.lock").write_text(json.dumps(
        {"pid": holder.pid, "host": socket.gethostname(), "command": "redes tiles ...", "started": "earlier"}))
    err = _one_line_exit(_tiles_args(bicubic_model_dir, tmp_path, {"2019": str(
        demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir))}), capsys)
    assert f"is in use by another redes tiles: pid {holder.pid}" in err and not (tmp_path / "pensacola").exists()
  finally:
    holder.kill()
    holder.wait()
  scene = str(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir))
  out = tmp_path / "enhanced.tif"
  run = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "enhance", scene, str(out), "--model",
                          bicubic_model_dir, "--block", "32", "--halo", "4"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while not list(tmp_path.glob("*.part")) and time.time() < deadline and run.poll() is None:
    time.sleep(0.05)
  assert list(tmp_path.glob("*.part.*gtiff")), "the enhancement finished before it could be stopped"
  run.send_signal(signal.SIGTERM)
  assert run.wait(timeout=60) == 128 + signal.SIGTERM
  assert not out.exists() and not list(tmp_path.glob("*.part*"))


@pytest.mark.parametrize("change, message", [
    (["--geometry", "{outside}"], "lies outside the imagery of"),
    (["--min-z", "13"], "argument --min-z: 13 is above --max-z 12"),
    (["--max-z", "19"], "argument --max-z: '19' is not a zoom level 0..18"),
    (["--region-name", "../up"], "argument --region-name: '../up' is not a plain name"),
    (["--folder-path", "/proc/redes"], "argument --folder-path: '/proc/redes' is not a writable directory"),
    (["--frames", "2019={two_bands}"], "has 2 bands; the model expects 3 (red, green, blue)"),
    (["--frames", "19=x.tif"], "argument --frames: '19=x.tif' is not YEAR=GEOTIFF"),
    (["--frames", "2019=/no/such.tif"], "argument --frames: 2019='/no/such.tif': '/no/such.tif' is not a file"),
    (["--frames", "2019={not_raster}"], "argument --frames: 2019='{not_raster}' is not a raster GDAL can read"),
    (["--region-name", "r" * 300], "argument --region-name: 'rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr...' is not a "
                                   "plain name (1 to 100 bytes"),
])
def test_bad_input_is_one_line_and_writes_nothing(change, message, bicubic_model_dir, yearly_rasters, tmp_path,
                                                  capsys):
  outside = tmp_path / "outside.geojson"
  outside.write_text(json.dumps({"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 10]]]}))
  two_bands = _write(tmp_path / "two.tif", np.zeros((2, 10, 10)), "EPSG:32616", from_origin(452475, 3408645, 30, 30))
  not_raster = tmp_path / "notes.tif"
  not_raster.write_text("field notes, not a raster")
  message = message.format(not_raster=not_raster)
  args = _tiles_args(bicubic_model_dir, tmp_path / "out", {"2019": yearly_rasters["2019"]})
  for flag, value in zip(change[::2], change[1::2]):
    value = value.format(outside=outside, two_bands=two_bands, not_raster=not_raster)
    args = args[:args.index(flag) + 1] + [value] + args[args.index(flag) + 2:] if flag in args else args + [flag, value]
  with pytest.raises(SystemExit) as exit_info:
    cli.main(args)
  err = capsys.readouterr().err
  assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
  assert not (tmp_path / "out" / "pensacola").exists()


def test_webp_tiles_and_animated_webp(bicubic_model_dir, yearly_rasters, tmp_path):
  rasters = {y: yearly_rasters[y] for y in ("2019", "2020")}
  args = _tiles_args(bicubic_model_dir, tmp_path, rasters, "--tile-format", "webp")
  args[args.index("--min-z") + 1] = "12"
  assert cli.main(args) == 0
  region = tmp_path / "pensacola"
  animated = sorted((region / "enhanced" / "animated").rglob("*.webp"))
  assert animated and len(animated) == len(list((region / "enhanced" / "2019").rglob("*.webp")))
  with Image.open(animated[0]) as image:
    assert image.format == "WEBP" and image.n_frames == 2
    image.seek(1)
    image.load()                                                # WebP frames carry their duration once decoded
    assert image.info["duration"] == DELAY_MS
  assert json.loads((region / "original" / "animated" / "tilejson.json").read_text())["tiles"] == ["{z}/{x}/{y}.webp"]


@pytest.fixture(scope="module")
def directional_model_dir(tmp_path_factory):
  """Bicubic sharpened along x only: its output changes under flips and rotations, as a real model's does."""
  import tensorflow as tf
  from models import export
  from redes.resampling import bicubic_upsample

  def upsample(lr):
    smooth = bicubic_upsample(lr, 3)
    return smooth + 0.5 * (smooth - tf.roll(smooth, 1, axis=2))
  path = str(tmp_path_factory.mktemp("directional") / "model")
  export.export_model(upsample, path, ("red", "green", "blue"), 96, 3, name="directional")
  return path


@pytest.fixture(scope="module")
def published_with_uncertainty(directional_model_dir, yearly_rasters, tmp_path_factory):
  folder = tmp_path_factory.mktemp("uncertain")
  rasters = {year: yearly_rasters[year] for year in ("2019", "2020")}
  assert cli.main(_tiles_args(directional_model_dir, folder, rasters, "--uncertainty")) == 0
  return folder / "pensacola"


def test_the_uncertainty_layer_is_the_spread_over_flips_and_rotations(published_with_uncertainty):
  region = published_with_uncertainty
  with rasterio.open(region / "uncertainty" / "2019.tif") as spread, \
      rasterio.open(region / "enhanced" / "2019.tif") as enhanced:
    assert spread.count == 1 and spread.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    assert (spread.transform, spread.crs, spread.shape) == (enhanced.transform, enhanced.crs, enhanced.shape)
    values, bands = read_values(spread)[0], read_values(enhanced)
  valid = np.isfinite(bands).all(axis=0)
  assert np.array_equal(np.isfinite(values), valid)                 # no-data stays no-data
  assert 1e-4 < float(np.nanmedian(values)) < 0.05                  # a direction-dependent model disagrees
  config = json.loads((region / "index.html").read_text().split("const CONFIG = ")[1].split(";\n")[0])
  assert config["layers"] == ["original", "enhanced", "uncertainty"]
  expected = tiles_for(config["bounds"], 11, 12)
  for pyramid in ("2019", "2020", "animated"):
    assert len(list((region / "uncertainty" / pyramid).rglob("*.png"))) == len(expected)
  assert not (region / "uncertainty.mp4").exists()


def test_one_beam_worker_two_threads_and_two_processes_write_the_same_bytes(bicubic_model_dir, yearly_rasters,
                                                                               tmp_path):
  two_years = {year: yearly_rasters[year] for year in ("2019", "2020")}
  two = ["--beam-arg=--direct_num_workers=2", "--beam-arg=--direct_running_mode=multi_"]
  folders = {"one": ["--beam-arg=--direct_num_workers=1"], "threads": [two[0], f"{two[1]}threading"],
             "processes": [two[0], f"{two[1]}processing"]}
  for name, beam_args in folders.items():
    assert cli.main(_tiles_args(bicubic_model_dir, tmp_path / name, two_years, "--max-z", "15", *beam_args)) == 0
  files = {name: sorted(p.relative_to(tmp_path / name) for p in (tmp_path / name).rglob("*") if p.is_file())
           for name in folders}
  kinds = {p.suffix for p in files["one"]}
  assert {".tif", ".png", ".json", ".mp4", ".gif", ".html"} <= kinds
  assert "prism" not in (tmp_path / "one" / "pensacola" / "publish.log").read_text().lower()   # no runner named
  assert len([p for p in files["one"] if "animated" in p.parts]) > 2 * 64       # more than one square a layer
  for name in ("threads", "processes"):
    assert files[name] == files["one"]
    differ = [str(p) for p in files["one"]
              if (tmp_path / "one" / p).read_bytes() != (tmp_path / name / p).read_bytes()]
    model_item = "pensacola/stac/pensacola-model/pensacola-model.json"
    assert differ == ["pensacola/publish.log", model_item]   # the log's times; the item's datetime: when published
    items = [json.loads((tmp_path / folder / model_item).read_text()) for folder in ("one", name)]
    for item in items:
      item["properties"].pop("datetime")
    assert items[0] == items[1]

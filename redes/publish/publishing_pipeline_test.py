import threading
import time

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from redes.ingest import demo_data
from redes.publish import publishing_pipeline
from redes.publish.blocks import strips
from redes.publish.enhance import Enhancer, enhance_geotiff


@pytest.fixture(scope="module")
def tall_frame(demo_dir, tmp_path_factory):
  """A frame of two strips: 1100 x 40 px of the real Landsat 8 demo scene (its first columns, then mirrored)."""
  path = tmp_path_factory.mktemp("tall") / "tall.tif"
  with rasterio.open(demo_data.landsat_reflectance_geotiff(("red", "green", "blue"), demo_dir)) as src:
    columns = src.read(window=((0, src.height), (0, 40))).astype(np.float32)
  data = np.concatenate([columns, columns[:, ::-1]], axis=1)[:, :1100]
  data[:, 1000:1050, :10] = np.nan                                    # no-data in the second strip
  with rasterio.open(path, "w", driver="GTiff", width=40, height=1100, count=3, dtype="float32", crs="EPSG:32616",
                     transform=from_origin(452475.0, 3408645.0, 30.0, 30.0), nodata=np.nan) as dst:
    dst.write(data)
  assert len(strips(1100)) == 2
  return str(path)


@pytest.mark.parametrize("beam_args", [publishing_pipeline.local_beam_args(1),
                                       publishing_pipeline.local_beam_args(2),
                                       publishing_pipeline.local_beam_args(2, "multi_processing")],
                         ids=["one worker", "two threads", "two processes"])
def test_a_frame_enhanced_strip_by_strip_over_workers_is_the_bytes_of_one_enhancement(
    bicubic_model_dir, tall_frame, tmp_path, beam_args):
  enhancer = Enhancer(bicubic_model_dir, uncertainty=True)
  enhance_geotiff(tall_frame, str(tmp_path / "whole.tif"), enhancer, uncertainty_path=str(tmp_path / "ws.tif"))
  frame = publishing_pipeline.FrameToEnhance("2019", tall_frame, str(tmp_path / "out" / "2019.tif"),
                                             str(tmp_path / "out" / "2019_spread.tif"))
  work = publishing_pipeline.Work(str(tmp_path / "out"), bicubic_model_dir, True, enhancer.halo, (frame,), (), (),
                                  (-87.5, 30.7, -87.4, 30.8), 10, 10, "png", 1000)
  assert publishing_pipeline.run(work, str(tmp_path / "counts.json"), beam_args) == (0, 0)
  assert (tmp_path / "out" / "2019.tif").read_bytes() == (tmp_path / "whole.tif").read_bytes()
  assert (tmp_path / "out" / "2019_spread.tif").read_bytes() == (tmp_path / "ws.tif").read_bytes()
  assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2019.tif", "2019_spread.tif"]   # no part left


def test_a_stop_waits_for_the_units_running_and_lets_no_other_begin():
  units, done = publishing_pipeline._Units(), []   # pylint: disable=protected-access
  units.start()
  begun = threading.Event()

  def strip():
    with units.running() as going:
      begun.set()
      time.sleep(0.5)
      done.append(going)
  worker = threading.Thread(target=strip)
  worker.start()
  begun.wait()
  units.stop(timeout=10)
  assert done == [True]                        # the running unit ended before stop returned
  with units.running() as going:
    assert going is False                      # none begins once stopping
  units.start()
  with units.running() as going:
    assert going is True                       # the next run's units do
  worker.join()

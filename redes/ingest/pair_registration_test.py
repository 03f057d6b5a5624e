"""Registration of pairs with known shifts, made from real Sentinel-2 patches with the degradation's shifted PSF."""
import numpy as np
import pytest

from redes.ingest import demo_data, pair_cache
from redes.ingest.degradation import degrade
from redes.ingest.pair_registration import pair_shift, shift_summary
from redes.ingest.patch_grid import Footprint
from redes.landsat_sensors import Degradation

SHIFTS_HR = [(0.0, 0.0), (1.5, 0.0), (0.0, -1.2), (0.6, 0.9), (-1.5, 1.5), (0.3, -0.3)]   # 10 m pixels


@pytest.fixture(scope="module")
def targets(demo_dir):
  image, _, _ = demo_data.sentinel2_reflectance(("red", "green", "blue"), demo_dir)
  return [np.nan_to_num(image[y:y + 96, 600:696]) for y in (200, 600, 1000)]


def test_known_shifts_are_recovered_to_a_twentieth_of_a_pixel(targets):
  for hr in targets:
    for dy, dx in SHIFTS_HR:
      lr = degrade(hr, 3, Degradation(shift=(dy, dx))).numpy()
      estimate = np.array(pair_shift(lr, hr, 3))
      assert np.hypot(*(estimate - np.array([dy, dx]) / 3)) <= 0.075, (dy, dx, estimate)


def test_the_cache_rejects_misregistered_pairs_and_summarises_the_rest(targets, tmp_path):
  hr = targets[1]
  footprints = [Footprint(32618, 600000.0 + 960 * i, 4200000.0, 96, 3) for i in range(4)]
  shifts = {f.patch_id: s for f, s in zip(footprints, [(0.0, 0.0), (0.9, 0.0), (0.0, -1.2), (3.0, 0.0)])}

  def fetch(footprint):
    return degrade(hr, 3, Degradation(shift=shifts[footprint.patch_id])).numpy(), hr
  cached = pair_cache.cache_split(footprints, fetch, str(tmp_path), 1.0, 2, "test", 3, max_shift=0.5)
  assert cached.examples == 3 and list(cached.kept) == footprints[:3]
  assert cached.rejected == {pair_cache.REJECT_NODATA: 0, pair_cache.REJECT_SHIFT: 1}   # one 30 m pixel off
  summary = cached.shift_lr_pixels
  assert summary["count"] == 3 and summary["max"] == pytest.approx(0.4, abs=0.075)
  assert summary["mean_dy"] == pytest.approx(0.1, abs=0.03)
  assert shift_summary([]) == {"count": 0}

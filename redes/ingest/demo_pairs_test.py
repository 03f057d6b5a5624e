import numpy as np
import pytest

from redes.ingest import demo_data
from redes.ingest.degradation import degrade
from redes.ingest.demo_pairs import SplitPairs, select_windows
from redes.ingest.patch_grid import split_patch_rows

BANDS = ("red", "green", "blue")


@pytest.fixture(scope="module")
def scene(demo_dir):
  return demo_data.sentinel2_reflectance(BANDS, demo_dir)


def test_scene_is_the_real_sentinel2_reflectance(scene):
  image, crs, transform = scene
  assert image.shape == (1947, 1933, 3)
  assert crs.to_epsg() == 32618
  assert (transform.a, transform.e) == (10.0, -10.0)
  # Real land/sea reflectance, not noise: a median around 0.07-0.13 and a strong spatial correlation.
  assert 0.05 < float(np.nanmedian(image)) < 0.15
  red = image[..., 0]
  assert np.corrcoef(red[:, :-1].ravel(), red[:, 1:].ravel())[0, 1] > 0.9


def test_splits_are_disjoint_bands_of_rows():
  rows = split_patch_rows(20)
  assert rows == {"train": range(0, 14), "eval": range(14, 17), "test": range(17, 20)}
  with pytest.raises(ValueError, match="at least 3"):
    split_patch_rows(2)


def test_window_counts_and_no_pixel_shared(scene):
  pairs = {s: SplitPairs(*scene, s, 96, 3) for s in ("train", "eval", "test")}
  windows = {s: p.windows() for s, p in pairs.items()}
  assert {s: len(w) for s, w in windows.items()} == {"train": 27 * 39, "eval": 60, "test": 60}
  covered = {s: {(y + dy, x) for y, x in w for dy in range(96)} for s, w in windows.items()}
  rows = {s: {y for y, _ in c} for s, c in covered.items()}
  assert not rows["train"] & rows["eval"] and not rows["eval"] & rows["test"] and not rows["train"] & rows["test"]


def test_pair_is_the_degraded_target_on_the_same_footprint(scene):
  pairs = SplitPairs(*scene, "test", 96, 3)
  y, x = pairs.windows()[25]
  patch = pairs.patch(y, x)
  assert patch.hr.shape == (96, 96, 3) and patch.lr.shape == (32, 32, 3)
  np.testing.assert_array_equal(patch.hr, scene[0][y:y + 96, x:x + 96])
  # Away from the patch border, the input is the blurred block mean of exactly these 10 m pixels.
  np.testing.assert_allclose(patch.lr[3:-3, 3:-3], degrade(patch.hr, 3).numpy()[3:-3, 3:-3], atol=1e-6)
  assert patch.valid_fraction == 1.0
  assert -76.0 < patch.center_lon < -75.0 and 37.0 < patch.center_lat < 38.5
  assert patch.patch_id == f"test/y{y:05d}x{x:05d}"


def test_max_patches_spreads_over_the_split():
  windows = select_windows(0, 960, 960, 96, 96, max_patches=4)
  assert windows == [(0, 0), (288, 288), (576, 576), (864, 864)]


def test_patch_size_must_divide_by_scale(scene):
  with pytest.raises(ValueError, match="patch_size 100 is not divisible by the scaling factor 3"):
    SplitPairs(*scene, "train", 100, 3)

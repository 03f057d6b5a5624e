"""The degradation against scipy's Gaussian, its shift, noise and quantisation, the random draws against the sensor
table, and the seeded robustness variants."""
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from redes.ingest import degradation
from redes.landsat_sensors import CLEAN_FRACTION, MAX_SHIFT_LR_PIXELS, SENSORS, Degradation, sensor_models


def test_constant_image_keeps_its_value():
  lr = degradation.degrade(np.full((24, 21, 2), 0.25, np.float32), 3).numpy()
  assert lr.shape == (8, 7, 2)
  np.testing.assert_allclose(lr, 0.25, atol=1e-6)


def test_reference_is_a_gaussian_psf_then_the_block_mean(rng):
  hr = rng.uniform(0, 0.4, (48, 45, 3)).astype(np.float32)
  blurred = ndimage.gaussian_filter(hr, sigma=(1.2, 1.2, 0), mode="reflect", truncate=8.0)
  expected = blurred.reshape(16, 3, 15, 3, 3).mean(axis=(1, 3))
  np.testing.assert_allclose(degradation.degrade(hr, 3).numpy(), expected, atol=2e-6)


def test_block_mean_without_blur_is_area_average():
  hr = np.arange(24 * 24, dtype=np.float32).reshape(24, 24, 1) / 1000
  lr = degradation.degrade(hr, 3, Degradation(psf_sigma=0.0)).numpy()
  np.testing.assert_allclose(lr[0, 0, 0], hr[:3, :3, 0].mean(), rtol=1e-6)
  np.testing.assert_allclose(lr[4, 5, 0], hr[12:15, 15:18, 0].mean(), rtol=1e-6)


def test_a_shift_moves_the_sampled_scene(rng):
  hr = rng.uniform(0, 0.4, (60, 60, 1)).astype(np.float32)
  reference = degradation.degrade(hr, 3).numpy()
  one_pixel = degradation.degrade(hr, 3, Degradation(shift=(3.0, -3.0))).numpy()   # one 30 m pixel down, left
  np.testing.assert_allclose(one_pixel[4:-5, 5:-4], reference[5:-4, 4:-5], atol=1e-6)
  ramp = np.tile(np.arange(60, dtype=np.float32) * 0.001, (60, 1))[..., None]      # +0.001 per 10 m pixel in x
  shifted = degradation.degrade(ramp, 3, Degradation(shift=(0.0, 0.6))).numpy()
  np.testing.assert_allclose((shifted - degradation.degrade(ramp, 3).numpy())[4:-4, 4:-4], 0.0006, atol=1e-6)


def test_gain_offset_noise_and_quantisation(rng):
  hr = np.full((8, 96, 96, 2), 0.2, np.float32)
  noisy = degradation.degrade(hr, 3, Degradation(gain=(1.1, 0.9), offset=(0.01, -0.01), noise=0.002)).numpy()
  np.testing.assert_allclose(noisy.mean(axis=(0, 1, 2)), [0.23, 0.17], atol=2e-4)
  np.testing.assert_allclose(noisy.std(axis=(0, 1, 2)), 0.002, rtol=0.05)
  quantised = degradation.degrade(hr + rng.uniform(0, 0.1, hr.shape), 3, Degradation(step=0.0025)).numpy()
  np.testing.assert_allclose(quantised / 0.0025, np.round(quantised / 0.0025), atol=1e-3)
  with pytest.raises(ValueError, match="not a multiple of the scale 3"):
    degradation.degrade(np.zeros((10, 9, 1), np.float32), 3)


@pytest.mark.parametrize("name", ["tm", "oli"])
def test_draws_stay_in_and_fill_the_ranges_of_the_table(name):
  tf.random.set_seed(1)
  sensor = SENSORS[name]
  draws = degradation.draw(sensor_models([name]), 3, 3, 1500)
  clean = draws.noise.numpy() == 0
  assert np.array_equal(clean, draws.step.numpy() == 0)               # noise and quantisation left out together
  assert clean.mean() == pytest.approx(CLEAN_FRACTION, abs=0.03)
  for field in ("psf_sigma", "noise", "step", "gain", "offset"):
    values = getattr(draws, field).numpy()
    values = (values[~clean] if field in ("noise", "step") else values).ravel()
    low, high = getattr(sensor, field)
    assert low <= values.min() and values.max() <= high, field
    assert values.mean() == pytest.approx((low + high) / 2, abs=0.03 * (high - low)), field   # uniform
  radii = np.hypot(*draws.shift.numpy().T)
  assert radii.max() <= 3 * MAX_SHIFT_LR_PIXELS + 1e-6
  assert np.mean(radii ** 2) == pytest.approx((3 * MAX_SHIFT_LR_PIXELS) ** 2 / 2, rel=0.08)  # uniform over a disk


def test_tm_is_softer_and_noisier_than_oli():
  tm, oli = SENSORS["tm"], SENSORS["oli"]
  assert tm.psf_sigma[0] > oli.psf_sigma[0] and tm.psf_sigma[1] > oli.psf_sigma[1]
  assert tm.noise[0] > oli.noise[1] and tm.step[0] > oli.step[1]      # 8-bit against 12-bit quantisation


def test_a_training_batch_gets_one_draw_per_image_and_keeps_its_radiometry(rng):
  tf.random.set_seed(3)
  hr = np.full((4, 96, 96, 3), 0.2, np.float32)
  lr, target = degradation.random_degradation(hr, 3, sensor_models(["tm", "etm", "oli"]))
  assert lr.shape == (4, 32, 32, 3) and target.shape == (4, 96, 96, 3)
  np.testing.assert_allclose(lr.numpy().mean(axis=(1, 2)), target.numpy().mean(axis=(1, 2)), atol=1e-3)
  assert not np.allclose(target.numpy(), hr)                          # the drawn gain and offset
  assert len({round(float(v), 6) for v in target.numpy()[:, 0, 0, 0]}) == 4   # one draw per image
  scene = rng.uniform(0, 0.4, (1, 48, 48, 2)).astype(np.float32)
  per_image = Degradation(psf_sigma=(0.8, 1.6), shift=[(0, 0), (3, 0)])
  shared = degradation.degrade(np.repeat(scene, 2, axis=0), 3, per_image)
  np.testing.assert_allclose(shared[0], degradation.degrade(scene, 3, Degradation(psf_sigma=0.8))[0], atol=1e-6)
  np.testing.assert_allclose(shared[1], degradation.degrade(scene, 3, Degradation(psf_sigma=1.6, shift=(3, 0)))[0],
                             atol=1e-6)


def test_variants_are_seeded_per_patch_whatever_the_batch(rng):
  hr = rng.uniform(0, 0.4, (3, 24, 24, 3)).astype(np.float32)
  ids = [b"test/a", b"test/b", b"test/c"]
  first = degradation.variant_inputs(hr, 3, "noise_tm", ids).numpy()
  again = degradation.variant_inputs(hr[::-1], 3, "noise_tm", ids[::-1]).numpy()[::-1]
  np.testing.assert_array_equal(first, again)
  other = degradation.variant_inputs(hr, 3, "noise_tm", [b"test/x", b"test/b", b"test/c"]).numpy()
  assert not np.allclose(first[0], other[0]) and np.array_equal(first[1], other[1])
  clean = degradation.degrade(hr, 3, Degradation(psf_sigma=1.4)).numpy()
  assert 0.0015 < np.std(first - clean) < 0.0025                       # noise 0.002 with 8-bit steps


def test_a_training_target_moves_with_its_input_without_blur(rng):
  # A scene as MSI sees it, blurred by its own point-spread function (a sub-pixel shift is exact on such imagery).
  hr = ndimage.gaussian_filter(rng.uniform(0, 0.4, (4, 48, 48, 2)), sigma=(0, 1, 1, 0)).astype(np.float32)
  shift = np.array([[0.7, -1.2], [1.5, 0.0], [0.0, 0.0], [-0.4, 0.9]], np.float32)
  target = degradation.moved(hr, shift).numpy()
  np.testing.assert_allclose(target[2], hr[2], atol=1e-6)                # no shift: the patch itself
  whole = degradation.moved(hr, np.array([[2.0, -1.0]] * 4, np.float32)).numpy()
  np.testing.assert_allclose(whole[:, 8:-8, 8:-8], hr[:, 10:-6, 7:-9], atol=1e-5)   # whole pixels: hr[i + shift]
  # A shifted Gaussian PSF of the patch is the centred PSF of the moved patch: the pair is co-registered.
  blurred = degradation.blur_and_shift(hr, 1.2, shift).numpy()
  of_moved = degradation.blur_and_shift(target, 1.2, np.zeros((4, 2), np.float32)).numpy()
  np.testing.assert_allclose(of_moved[:, 8:-8, 8:-8], blurred[:, 8:-8, 8:-8], atol=1e-5)
  assert np.abs(of_moved - degradation.blur_and_shift(hr, 1.2, -shift).numpy())[1, 8:-8, 8:-8].mean() > 1e-3
  # A sub-pixel shift keeps the detail: the moved patch's high frequencies are the patch's own.
  def detail(image):
    return np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean()
  assert detail(target[3]) == pytest.approx(detail(hr[3]), rel=0.02)


@pytest.mark.parametrize("traced", [False, True], ids=["eager", "tf.function"])
def test_a_training_input_and_its_target_are_co_registered(traced):
  # Traced, as Keras and tf.data run it: Grappler once turned the shift's slices [b, 1, 1] into [b] there.
  tf.random.set_seed(7)
  ramp = 0.1 + 0.01 * np.arange(48, dtype=np.float32)                  # +0.01 per 10 m pixel in x
  hr = np.broadcast_to(ramp[None, None, :, None], (8, 48, 48, 1)).copy()
  def degrade(images):
    return degradation.random_degradation(images, 3, sensor_models(["oli"]))
  lr, target = (tf.function(degrade) if traced else degrade)(tf.constant(hr))
  assert lr.shape == (8, 16, 16, 1) and target.shape == (8, 48, 48, 1)
  # Where the 30 m pixels fall moves with each draw's shift; the target moves with them, so the input's mean over
  # its inner pixels is the target's over the same ground, whatever the shift (up to 0.015 off if left in place).
  lr_mean = lr.numpy()[:, 3:-3, 3:-3].mean(axis=(1, 2, 3))
  target_mean = target.numpy()[:, 9:-9, 9:-9].mean(axis=(1, 2, 3))
  np.testing.assert_allclose(lr_mean, target_mean, atol=5e-4)

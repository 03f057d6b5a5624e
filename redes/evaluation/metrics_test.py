import numpy as np
import pytest
import tensorflow as tf

from redes.evaluation.metrics import (consistency_l1, cpsnr, ergas, flat_pixels, image_metrics, psnr, sam_degrees, ssim,
                            texture_energy)
from redes.ingest import demo_data


def test_psnr_is_per_image_and_leaves_the_border_out(rng):
  hr = rng.uniform(0.3, 0.6, (4, 24, 24, 3)).astype(np.float32)
  noisy = np.clip(hr + rng.normal(0, [[[[0.01]]], [[[0.02]]], [[[0.03]]], [[[0.04]]]], hr.shape), 0, 1)
  noisy = noisy.astype(np.float32)
  expected = tf.image.psnr(hr[:, 6:-6, 6:-6], noisy[:, 6:-6, 6:-6], max_val=1.0).numpy()
  np.testing.assert_allclose(psnr(hr, noisy).numpy(), expected, rtol=1e-6)
  mse = ((hr - noisy)[:, 6:-6, 6:-6] ** 2).mean(axis=(1, 2, 3))
  np.testing.assert_allclose(expected, 10 * np.log10(1.0 / mse), atol=1e-3)
  assert 39 < expected[0] < 41 and 27 < expected[3] < 29.5  # noise 0.01 -> ~40 dB, 0.04 -> ~28 dB


def test_ssim_is_one_for_identical_images(rng):
  hr = rng.uniform(0, 0.4, (2, 32, 32, 3)).astype(np.float32)
  np.testing.assert_allclose(ssim(hr, hr).numpy(), [1.0, 1.0], atol=1e-6)


def test_border_is_left_out():
  hr = np.zeros((1, 24, 24, 1), np.float32)
  est = hr.copy()
  est[:, :6] = 1.0  # errors only in the border rows
  assert float(psnr(hr, est, border=6)[0]) == float("inf") or float(psnr(hr, est, border=6)[0]) > 100


def test_sam_is_the_angle_between_spectra():
  hr = np.zeros((1, 14, 14, 2), np.float32)
  hr[..., 0] = 0.2                        # spectrum (0.2, 0)
  est = np.full((1, 14, 14, 2), 0.2, np.float32)   # spectrum (0.2, 0.2): 45 degrees away
  assert abs(float(sam_degrees(hr, est, border=1)[0]) - 45.0) < 1e-3
  assert float(sam_degrees(hr, 3 * hr, border=1)[0]) < 1e-3   # brightness alone is no spectral error


def test_ergas_is_relative_rmse_over_the_resolution_ratio(rng):
  hr = rng.uniform(0.1, 0.3, (2, 20, 20, 3)).astype(np.float32)
  est = hr * 1.1                          # 10 % error in every band: ERGAS = 100 / 3 * rms(relative error)
  values = ergas(hr, est, border=2, scale=3).numpy()
  expected = [100 / 3 * np.sqrt(np.mean([(np.sqrt(np.mean((0.1 * hr[i, 2:-2, 2:-2, b]) ** 2))
                                          / hr[i, 2:-2, 2:-2, b].mean()) ** 2 for b in range(3)]))
              for i in range(2)]
  np.testing.assert_allclose(values, expected, rtol=1e-4)
  assert 3.3 < values[0] < 3.6


def test_consistency_is_zero_when_the_output_averages_back_to_the_input(rng):
  lr = rng.uniform(0.1, 0.3, (2, 8, 8, 3)).astype(np.float32)
  detail = rng.normal(0, 0.02, (2, 24, 24, 3)).astype(np.float32)
  detail -= tf.image.resize(tf.nn.avg_pool2d(detail, 3, 3, "VALID"), (24, 24), method="nearest").numpy()
  consistent = np.repeat(np.repeat(lr, 3, axis=1), 3, axis=2) + detail   # detail with zero mean per 3x3 block
  np.testing.assert_allclose(consistency_l1(lr, consistent, scale=3, border=6).numpy(), [0, 0], atol=1e-6)
  brighter = consistent + 0.01                                               # a 0.01 bias everywhere
  np.testing.assert_allclose(consistency_l1(lr, brighter, scale=3, border=6).numpy(), [0.01, 0.01], atol=1e-6)
  outside = consistent.copy()
  outside[:, :6] += 0.5                                                      # errors only in the border
  np.testing.assert_allclose(consistency_l1(lr, outside, scale=3, border=6).numpy(), [0, 0], atol=1e-6)


def test_image_metrics_clip_the_estimate_and_name_every_metric(rng):
  hr = rng.uniform(0.1, 0.3, (3, 24, 24, 3)).astype(np.float32)
  lr = tf.nn.avg_pool2d(hr, 3, 3, "VALID").numpy()
  values = image_metrics(lr, hr, hr * 0 + 2.0)                               # clipped to 1.0
  assert set(values) == {"psnr", "ssim", "sam", "ergas", "consistency", "cpsnr", "texture_energy"}
  assert all(v.shape == (3,) for v in values.values())
  np.testing.assert_allclose(values["consistency"].numpy(), 1.0 - lr[:, 2:-2, 2:-2].mean(axis=(1, 2, 3)), rtol=1e-5)


def _scene_patches(demo_dir, count=6):
  image, _, _ = demo_data.sentinel2_reflectance(("red", "green", "blue"), demo_dir)
  return np.stack([np.nan_to_num(image[200 + 96 * i:296 + 96 * i, 400:496]) for i in range(count)])


def test_cpsnr_forgives_an_integer_shift_and_a_brightness_bias(demo_dir):
  hr = _scene_patches(demo_dir)
  moved = np.roll(hr, (2, -1), axis=(1, 2)) + 0.01                      # 2 pixels down, 1 left, brighter
  assert psnr(hr, moved).numpy().max() < 40.0
  assert cpsnr(hr, moved).numpy().min() > 100.0                          # exact after the shift and the bias
  moved_far = np.roll(hr, 3, axis=1)                                     # beyond the 2 pixels searched
  assert (cpsnr(hr, moved_far).numpy() < 60.0).all()                     # only the best 2-pixel shift
  noisy = hr + np.random.default_rng(0).normal(0, 0.004, hr.shape).astype(np.float32)
  np.testing.assert_allclose(cpsnr(hr, noisy).numpy(), psnr(hr, noisy).numpy(), atol=0.05)   # aligned: as PSNR


def test_invented_texture_is_energy_where_the_target_is_flat(demo_dir):
  hr = _scene_patches(demo_dir)
  mask = flat_pixels(hr).numpy()
  assert mask.mean() == pytest.approx(0.25, abs=0.01)
  own = texture_energy(hr, hr).numpy()
  smooth = tf.image.resize(tf.nn.avg_pool2d(hr, 3, 3, "VALID"), (96, 96), method="bicubic")
  noisy = hr + np.random.default_rng(0).normal(0, 0.002, hr.shape).astype(np.float32)
  assert texture_energy(hr, smooth).numpy().sum() / own.sum() < 0.2     # bicubic holds almost no fine detail
  assert texture_energy(hr, noisy).numpy().sum() / own.sum() > 1.5      # noise is invented texture

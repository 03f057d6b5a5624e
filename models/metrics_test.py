import numpy as np
import tensorflow as tf

from models.metrics import PSNR, SSIM, psnr


def test_psnr_metric_is_the_mean_of_per_image_psnr_with_flat_labels(rng):
  hr = rng.uniform(0.3, 0.6, (4, 24, 24, 3)).astype(np.float32)
  noisy = np.clip(hr + rng.normal(0, [[[[0.01]]], [[[0.02]]], [[[0.03]]], [[[0.04]]]], hr.shape), 0, 1)
  noisy = noisy.astype(np.float32)
  expected = tf.image.psnr(hr[:, 6:-6, 6:-6], noisy[:, 6:-6, 6:-6], max_val=1.0).numpy()
  metric = PSNR()
  metric.update_state(hr[:2].reshape(2, -1), noisy[:2])   # TFMA hands labels flat
  metric.update_state(hr[2:].reshape(2, -1), noisy[2:])
  assert abs(float(metric.result()) - expected.mean()) < 1e-4
  mse = ((hr - noisy)[:, 6:-6, 6:-6] ** 2).mean(axis=(1, 2, 3))
  np.testing.assert_allclose(expected, 10 * np.log10(1.0 / mse), atol=1e-3)
  assert 39 < expected[0] < 41 and 27 < expected[3] < 29.5  # noise 0.01 -> ~40 dB, 0.04 -> ~28 dB


def test_ssim_metric_is_one_for_identical_images(rng):
  hr = rng.uniform(0, 0.4, (2, 32, 32, 3)).astype(np.float32)
  metric = SSIM()
  metric.update_state(hr.reshape(2, -1), hr)
  assert abs(float(metric.result()) - 1.0) < 1e-6


def test_border_is_left_out():
  hr = np.zeros((1, 24, 24, 1), np.float32)
  est = hr.copy()
  est[:, :6] = 1.0  # errors only in the border rows
  assert float(psnr(hr, est, border=6)[0]) == float("inf") or float(psnr(hr, est, border=6)[0]) > 100

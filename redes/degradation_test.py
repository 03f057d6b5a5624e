import numpy as np
import pytest

from redes.degradation import degrade


def test_constant_image_keeps_its_value():
  hr = np.full((12, 9, 2), 0.25, np.float32)
  lr = degrade(hr, 3)
  assert lr.shape == (4, 3, 2)
  np.testing.assert_allclose(lr, 0.25, atol=1e-6)


def test_block_mean_without_blur_is_area_average():
  hr = np.arange(36, dtype=np.float32).reshape(6, 6, 1)
  lr = degrade(hr, 3, psf_sigma=0.0)
  np.testing.assert_allclose(lr[0, 0, 0], hr[:3, :3, 0].mean())
  np.testing.assert_allclose(lr[1, 1, 0], hr[3:, 3:, 0].mean())


def test_size_not_multiple_of_scale_is_rejected():
  with pytest.raises(ValueError, match="not a multiple of the scale 3"):
    degrade(np.zeros((10, 9, 1), np.float32), 3)

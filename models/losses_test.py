import numpy as np
import pytest
import tensorflow as tf

from models.losses import pixel_loss


def test_the_shift_tolerant_loss_forgives_a_residual_shift_and_bias_only_when_asked(rng):
  hr = tf.nn.avg_pool2d(rng.uniform(0, 0.4, (2, 36, 36, 3)).astype(np.float32), 1, 1, "VALID")
  moved = tf.roll(hr, 1, axis=2)                                      # one 10 m pixel right
  assert float(pixel_loss("l1")(hr, moved)) > 0.05
  assert float(pixel_loss("l1", max_shift=1)(hr, moved)) == pytest.approx(0.0, abs=1e-7)
  brighter = moved + 0.02
  assert float(pixel_loss("l1", max_shift=1)(hr, brighter)) == pytest.approx(0.02, abs=1e-6)
  assert float(pixel_loss("l1", max_shift=1, bias_tolerant=True)(hr, brighter)) == pytest.approx(0.0, abs=1e-6)
  assert float(pixel_loss("mse", max_shift=2)(hr, tf.roll(hr, -2, axis=1))) == pytest.approx(0.0, abs=1e-9)
  with pytest.raises(ValueError, match="unknown pixel loss 'l2'"):
    pixel_loss("l2")

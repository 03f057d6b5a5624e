import keras
import numpy as np
import pytest
import tensorflow as tf

from models.generators import build_generator

MEAN, STD = [0.1, 0.1, 0.1], [0.05, 0.05, 0.05]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_residual_generator_any_size_and_scale(scale):
  model = build_generator("residual", 4, scale, MEAN + [0.2], STD + [0.1])
  out = model(np.zeros((2, 7, 11, 4), np.float32))
  assert out.shape == (2, 7 * scale, 11 * scale, 4)


def test_untrained_residual_generator_is_exactly_bicubic(rng):
  model = build_generator("residual", 3, 3, MEAN, STD)
  lr = rng.uniform(0, 0.3, (1, 16, 16, 3)).astype(np.float32)
  bicubic = tf.image.resize(lr, (48, 48), method="bicubic").numpy()
  np.testing.assert_allclose(model(lr).numpy(), bicubic, atol=1e-6)
  assert 60_000 < model.count_params() < 100_000


def test_srgan_generator_matches_the_original_size():
  model = build_generator("srgan", 3, 3, MEAN, STD)
  assert 1_400_000 < model.count_params() < 1_600_000
  out = model(np.zeros((1, 10, 12, 3), np.float32)).numpy()
  assert out.shape == (1, 30, 36, 3)
  assert out.min() >= 0.0 and out.max() <= 1.0


def test_unknown_generator_is_rejected():
  with pytest.raises(ValueError, match="unknown generator 'edsr'"):
    build_generator("edsr", 3, 3, MEAN, STD)


@pytest.mark.parametrize("name", ["residual", "srgan"])
def test_reflectance_constraint_keeps_the_input_at_its_resolution(name, rng):
  model = build_generator(name, 3, 3, MEAN, STD, reflectance_constraint=True)
  lr = rng.uniform(0.02, 0.4, (2, 12, 10, 3)).astype(np.float32)
  sr = model(lr).numpy()
  assert sr.shape == (2, 36, 30, 3)
  np.testing.assert_allclose(sr.reshape(2, 12, 3, 10, 3, 3).mean(axis=(2, 4)), lr, atol=1e-5)


@pytest.mark.parametrize("name", ["residual", "srgan"])
def test_norm_range_sets_the_input_scaling(name, rng):
  lr = rng.uniform(0, 0.3, (1, 8, 8, 3)).astype(np.float32)
  for norm_range, layer, expected in [("standardize", "standardize", (lr - 0.1) / 0.05),
                                      ("-1,1", "to_minus_one_one", 2 * lr - 1)]:
    model = build_generator(name, 3, 3, MEAN, STD, norm_range=norm_range)
    probe = keras.Model(model.input, model.get_layer(layer).output)
    np.testing.assert_allclose(probe(lr).numpy(), expected, rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="unknown norm_range '0,255'"):
    build_generator(name, 3, 3, MEAN, STD, norm_range="0,255")

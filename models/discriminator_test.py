import numpy as np

from models.discriminator import discriminator


def test_any_patch_size_and_a_few_million_parameters():
  model = discriminator(4)
  assert 4_000_000 < model.count_params() < 6_000_000      # the original's fixed-size head alone had ~75 M
  for size in (48, 96, 192):
    assert model(np.zeros((2, size, size, 4), np.float32)).shape == (2, 1)

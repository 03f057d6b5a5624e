import numpy as np
from PIL import Image

from redes.evaluation.comparison import most_textured, write_figure


def test_figure_layout_and_the_most_textured_patches(tmp_path, rng):
  hr = np.full((5, 12, 12, 3), 0.1, np.float32)
  hr[1] += rng.normal(0, 0.05, hr[1].shape).astype(np.float32)
  hr[3] += rng.normal(0, 0.02, hr[3].shape).astype(np.float32)
  assert most_textured(hr, 2) == [1, 3]
  lr = hr[:, ::3, ::3]
  path = write_figure(str(tmp_path / "f" / "comparison.png"), lr[:2], hr[:2] * 0.9, hr[:2], hr[:2], [30.0, 31.0],
                      [50.0, 51.0], tile=48)
  with Image.open(path) as figure:
    assert figure.size == (4 * 48, 2 * (48 + 16))
    pixels = np.asarray(figure.convert("RGB"))
  # Row 0 is a uniform 0.1 reflectance; stretched over 0..0.3 it shows as 85 of 255 in the target column.
  assert tuple(pixels[16 + 24, 3 * 48 + 24]) in ((84, 84, 84), (85, 85, 85))
  # The bicubic column holds 0.9 x that: 76.
  assert tuple(pixels[16 + 24, 48 + 24]) in ((76, 76, 76), (77, 77, 77))

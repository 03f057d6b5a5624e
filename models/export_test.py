import numpy as np
import tensorflow as tf

from redes import features
from redes.model_info import OUTPUT_KEY, ModelInfo, read_model_info


def test_enhance_signature_takes_any_size(bicubic_model_dir):
  enhance = tf.saved_model.load(bicubic_model_dir).signatures["enhance"]
  out = enhance(lr=tf.fill([2, 5, 7, 3], 0.2))[OUTPUT_KEY]
  assert out.shape == (2, 15, 21, 3)
  np.testing.assert_allclose(out.numpy(), 0.2, atol=1e-6)


def test_serving_default_reads_examples(bicubic_model_dir, rng):
  lr = rng.uniform(0, 0.3, (32, 32, 3)).astype(np.float32)
  hr = rng.uniform(0, 0.3, (96, 96, 3)).astype(np.float32)
  example = features.make_example(lr, hr, ("red", "green", "blue"), 1.0, -75.5, 37.9, "test/y0x0")
  serve = tf.saved_model.load(bicubic_model_dir).signatures["serving_default"]
  out = serve(examples=tf.constant([example.SerializeToString()]))[OUTPUT_KEY].numpy()
  expected = np.clip(tf.image.resize(lr[None], (96, 96), method="bicubic").numpy(), 0, 1)
  np.testing.assert_allclose(out, expected, atol=1e-6)


def test_model_info_records_bands_and_scale(bicubic_model_dir):
  assert read_model_info(bicubic_model_dir) == ModelInfo("bicubic", ("red", "green", "blue"), 3, 96)

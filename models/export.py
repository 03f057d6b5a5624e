"""Export contract of every model Redes serves (trained generators and the bicubic baseline).

Signatures of the SavedModel:
- `serving_default`: serialized tf.Example [b] (features of redes.features) -> {"sr_reflectance": [b, k, k, bands]}
- `enhance`: float32 reflectance [b, h, w, bands], any h and w -> {"sr_reflectance": [b, s*h, s*w, bands]}
Outputs are clipped to the reflectance range 0..1. `redes_model.json` beside the SavedModel records the bands,
scaling factor and kernel size, so that consumers (Evaluator, TileGen) can check what they feed it, and
`trained_for`: the degradation and the Landsat sensors (with their ranges) a trained model was made for
(redes.landsat_sensors.training_record; absent for the bicubic baseline, which holds for any input).
"""
import json
import os

import tensorflow as tf

from redes import features

OUTPUT_KEY = "sr_reflectance"
MODEL_INFO_FILE = "redes_model.json"


class _Served(tf.Module):

  def __init__(self, upsample, trackable, bands, kernel_size: int, scale: int):
    super().__init__()
    self._upsample = upsample
    self.trackable = trackable
    n_bands = len(bands)
    lr_spec = {features.LR_KEY: features.image_feature_spec(kernel_size, scale, n_bands)[features.LR_KEY]}

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, n_bands], tf.float32, name="lr")])
    def enhance(lr):
      return {OUTPUT_KEY: tf.clip_by_value(self._upsample(lr), 0.0, 1.0)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
      parsed = tf.io.parse_example(serialized, lr_spec)
      return enhance(parsed[features.LR_KEY])

    self.enhance = enhance
    self.serve_examples = serve_examples


def export_model(upsample, export_dir: str, bands, kernel_size: int, scale: int, name: str, trackable=None,
                 trained_for: dict | None = None):
  """Writes a SavedModel whose `enhance` runs `upsample` (a callable on [b, h, w, bands] reflectance)."""
  served = _Served(upsample, trackable, bands, kernel_size, scale)
  tf.saved_model.save(served, export_dir,
                      signatures={"serving_default": served.serve_examples, "enhance": served.enhance})
  info = {"name": name, "bands": list(bands), "scaling_factor": scale, "kernel_size": kernel_size}
  if trained_for:
    info["trained_for"] = trained_for
  with tf.io.gfile.GFile(os.path.join(export_dir, MODEL_INFO_FILE), "w") as f:
    f.write(json.dumps(info, indent=2))


def bicubic_upsample(scale: int):
  def upsample(lr):
    return tf.image.resize(lr, tf.shape(lr)[1:3] * scale, method="bicubic")
  return upsample


def read_model_info(model_dir: str) -> dict:
  with tf.io.gfile.GFile(os.path.join(model_dir, MODEL_INFO_FILE)) as f:
    return json.loads(f.read())


def latest_served_model(serving_dir: str) -> str | None:
  """The newest model the Pusher wrote under serving_dir (`<serving_dir>/<version>/`), or None."""
  if not tf.io.gfile.isdir(serving_dir):
    return None
  versions = [v.rstrip("/") for v in tf.io.gfile.listdir(serving_dir) if v.rstrip("/").isdigit()]
  candidates = [os.path.join(serving_dir, v) for v in sorted(versions, key=int, reverse=True)]
  return next((c for c in candidates if tf.io.gfile.exists(os.path.join(c, MODEL_INFO_FILE))), None)

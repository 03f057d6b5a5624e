"""The contract of a served model's folder, which every layer reads: the SavedModel's output key, the typed
`redes_model.json` beside it (ModelInfo: written by models.export, read by ImageEvaluator, ComparisonFigure, the
Trainer's warm start, TileGen and `redes`), and where the Pusher's newest version lies in a serving directory.

Paths may be local or gs:// (tf.io.gfile).
"""
import dataclasses
import json
import os

import tensorflow as tf

OUTPUT_KEY = "sr_reflectance"        # the output of the SavedModel's signatures
MODEL_INFO_FILE = "redes_model.json"
SAVED_MODEL_FILE = "saved_model.pb"   # the file a SavedModel copy is complete with


class ModelInfoError(ValueError):
  """A model folder without a readable redes_model.json; the message names the file and what is wrong."""


@dataclasses.dataclass(frozen=True)
class ModelInfo:
  """What a served model takes and was made for."""
  name: str                          # generator (residual, srgan) or bicubic
  bands: tuple[str, ...]             # input and output bands, in order
  scaling_factor: int                # output pixels per input pixel along each side
  patch_size: int                   # side of the 10 m patches it was trained on (serving_default's input x scale)
  trained_for: dict | None = None    # redes.landsat_sensors.training_record; None for the bicubic baseline

  def to_json(self) -> str:
    info = {"name": self.name, "bands": list(self.bands), "scaling_factor": self.scaling_factor,
            "patch_size": self.patch_size}
    if self.trained_for:
      info["trained_for"] = self.trained_for
    return json.dumps(info, indent=2)


def write_model_info(model_dir: str, info: ModelInfo) -> None:
  with tf.io.gfile.GFile(os.path.join(model_dir, MODEL_INFO_FILE), "w") as f:
    f.write(info.to_json())


def read_model_info(model_dir: str) -> ModelInfo:
  """The ModelInfo of a model folder; ModelInfoError (one line) when the file is missing or malformed."""
  path = os.path.join(model_dir, MODEL_INFO_FILE)
  try:
    with tf.io.gfile.GFile(path) as f:
      raw = json.loads(f.read())
    info = ModelInfo(name=str(raw["name"]), bands=tuple(raw["bands"]), scaling_factor=int(raw["scaling_factor"]),
                     patch_size=int(raw["patch_size"] if "patch_size" in raw else raw["kernel_size"]),  # older files
                     trained_for=raw.get("trained_for"))
  except tf.errors.NotFoundError as err:
    raise ModelInfoError(f"{path} does not exist; expected the model file a Redes export writes") from err
  except (ValueError, KeyError, TypeError) as err:
    raise ModelInfoError(f"{path} is not a Redes model file ({type(err).__name__}: {err}); expected the fields "
                         f"{', '.join(f.name for f in dataclasses.fields(ModelInfo))}") from err
  return info


def latest_served_model(serving_dir: str) -> str | None:
  """The newest model the Pusher finished writing under serving_dir (`<serving_dir>/<version>/`), or None. The
  Pusher copies `saved_model.pb` last, so a version without it is a copy that stopped (a full disk, a kill)."""
  if not serving_dir or not tf.io.gfile.isdir(serving_dir):
    return None
  versions = [v.rstrip("/") for v in tf.io.gfile.listdir(serving_dir) if v.rstrip("/").isdigit()]
  candidates = [os.path.join(serving_dir, v) for v in sorted(versions, key=int, reverse=True)]
  return next((c for c in candidates if all(tf.io.gfile.exists(os.path.join(c, name))
                                            for name in (MODEL_INFO_FILE, SAVED_MODEL_FILE))), None)

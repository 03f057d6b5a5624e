"""Benchmark of the generators and of run_fn, run on demand: `.venv/bin/python bench/models.py`.

1. This machine's float32 matrix-multiply GFLOP/s (TensorFlow, 2048 x 2048).
2. Per generator, on a 256 x 256 RGB input: output megapixels per second, FLOPs per output pixel (counted from the
   convolutions), achieved GFLOP/s and its fraction of the matrix-multiply figure.
3. Training examples per second of run_fn against a bare Keras fit of the same model on the same tf.data input.
4. Per generator, seconds per training step of the pixel stage and of the GAN stage, and what two schedules take at
   those rates: the demo's and the original system's (see training_steps). Run on a GPU node, it sizes a GPU run.
"""
import dataclasses
import math
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

# pools TensorFlow's CPU memory, as in every Redes process (redes.heap)
import redes  # pylint: disable=unused-import,wrong-import-position


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
  a = tf.random.normal((n, n))
  b = tf.random.normal((n, n))
  tf.linalg.matmul(a, b).numpy()
  started = time.time()
  for _ in range(repeats):
    c = tf.linalg.matmul(a, b)
  c.numpy()
  return 2 * n ** 3 * repeats / (time.time() - started) / 1e9


def conv_flops(model, height: int, width: int) -> float:
  """2 x multiply-adds of every Conv2D for an input of height x width (output sizes from the layer graph)."""
  import keras
  probe = keras.Model(model.input, [l.output for l in model.layers if isinstance(l, keras.layers.Conv2D)])
  outputs = probe(np.zeros((1, height, width, model.input.shape[-1]), np.float32))
  convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
  return float(sum(2 * np.prod(l.kernel.shape) * o.shape[1] * o.shape[2] for l, o in zip(convs, outputs)))


def inference(peak: float) -> None:
  from models.generators import build_generator
  print(f"generators on a 256 x 256 x 3 input (matrix multiply: {peak:.0f} GFLOP/s)")
  x = tf.constant(np.random.default_rng(0).uniform(0, 0.3, (1, 256, 256, 3)).astype(np.float32))
  for name in ("residual", "srgan"):
    model = build_generator(name, 3, 3, [0.1] * 3, [0.05] * 3)
    run = tf.function(lambda t, m=model: m(t, training=False), jit_compile=False)
    run(x).numpy()
    repeats = 10 if name == "residual" else 2
    started = time.time()
    for _ in range(repeats):
      out = run(x)
    out.numpy()
    seconds = (time.time() - started) / repeats
    flops = conv_flops(model, 256, 256)
    mpx = 768 * 768 / seconds / 1e6
    print(f"  {name:<9} {model.count_params():>9,} parameters  {mpx:6.2f} output Mpx/s  "
          f"{flops / (768 * 768) / 1e6:.3f} MFLOP per output pixel  {flops / seconds / 1e9:6.1f} GFLOP/s "
          f"= {flops / seconds / 1e9 / peak:.2f} of matrix multiply")


def _seconds_per_step(model, data, steps: int, warmup: int = 3) -> float:
  """Seconds per step of model.fit on data, after `warmup` steps (tracing, caches)."""
  model.fit(data, epochs=1, steps_per_epoch=warmup, verbose=0)
  started = time.time()
  model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
  return (time.time() - started) / steps


def training_throughput(steps: int = 60) -> None:
  import keras
  from tfx.components.trainer.fn_args_utils import FnArgs
  from models import trainer
  from models.generators import build_generator
  from models.input_pipeline import make_dataset
  from pipeline import configs
  from redes import features
  from redes.ingest import demo_data
  from redes.ingest.demo_pairs import SplitPairs
  bands = ("red", "green", "blue")
  image, crs, transform = demo_data.sentinel2_reflectance(bands)
  with tempfile.TemporaryDirectory() as tmp:
    files = {}
    for split in ("train", "eval"):
      pairs = SplitPairs(image, crs, transform, split, 96, 3)
      files[split] = os.path.join(tmp, f"{split}.gz")
      with tf.io.TFRecordWriter(files[split], options="GZIP") as writer:
        for window in pairs.windows(200 if split == "train" else 16):
          p = pairs.patch(*window)
          writer.write(features.make_example(p.lr, p.hr, bands, 1.0, 0.0, 0.0, p.patch_id).SerializeToString())
    config = {**dataclasses.asdict(configs.TrainingConfig()), "source": "demo", "bands": "rgb", "patch_size": 96,
              "scaling_factor": 3, "serving_dir": "", "epochs": 2, "steps_per_epoch": steps}   # as the pipeline's
    args = FnArgs(train_files=[files["train"]], eval_files=[files["eval"]], custom_config=config,
                  serving_model_dir=os.path.join(tmp, "T", "model", "1", "Format-Serving"),
                  model_run_dir=os.path.join(tmp, "T", "model_run", "1"))
    epoch_seconds = []

    class Timer(keras.callbacks.Callback):
      def on_epoch_begin(self, epoch, logs=None):
        self.started = time.time()

      def on_epoch_end(self, epoch, logs=None):
        epoch_seconds.append(time.time() - self.started)

    original_callbacks = keras.callbacks.TensorBoard
    keras.callbacks.TensorBoard = lambda **kw: [original_callbacks(**kw), Timer()][1]
    try:
      trainer.run_fn(args)
    finally:
      keras.callbacks.TensorBoard = original_callbacks
    run_fn_rate = steps * 16 / epoch_seconds[-1]   # second epoch: no tracing, no cache filling
    model = build_generator("residual", 3, 3, [0.1] * 3, [0.05] * 3)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mae")
    data = make_dataset(files["train"], 96, 3, 3, 16, training=True)
    bare_rate = 16 / _seconds_per_step(model, data, steps, warmup=steps)   # a first epoch fills the cache
  print(f"training: run_fn {run_fn_rate:.0f} examples/s, bare Keras fit {bare_rate:.0f} examples/s, "
        f"ratio {run_fn_rate / bare_rate:.2f} (batch 16, 32 -> 96 px, residual)")


def training_steps(batch: int = 16) -> None:
  """Seconds per step of `batch` patches (32 -> 96 px, RGB) for each generator: the pixel stage (L1, Adam) and the
  GAN stage (models.gan.SRGAN with the SRGAN discriminator; content loss L1 + spectral angle, as without VGG19
  weights: VGG54 adds a VGG19 pass on both images). Then what two schedules take at those rates: the demo's pixel
  stage (TrainingConfig.epochs over the demo scene's training split) and the original system's (25 epochs of 2,000
  steps of batch 32, as many patches as 100,000 steps of 16), with as many GAN steps again."""
  import keras
  from models.discriminator import discriminator
  from models.gan import SRGAN
  from models.generators import build_generator
  from models.losses import content_loss
  from pipeline.configs import TrainingConfig
  from redes.ingest import demo_data
  from redes.ingest.demo_pairs import SplitPairs
  image, crs, transform = demo_data.sentinel2_reflectance(("red", "green", "blue"))
  train_patches = len(SplitPairs(image, crs, transform, "train", 96, 3).windows())
  demo_steps = TrainingConfig.epochs * math.ceil(train_patches / batch)
  original_steps = 25 * 2000 * 32 // batch
  rng = np.random.default_rng(0)
  data = tf.data.Dataset.from_tensors((rng.uniform(0, 0.3, (batch, 32, 32, 3)).astype(np.float32),
                                       rng.uniform(0, 0.3, (batch, 96, 96, 3)).astype(np.float32))).repeat()
  print(f"training steps of {batch} patches; the demo's pixel stage: {demo_steps:,} steps, the original's: "
        f"{original_steps:,}")
  for name, pixel_steps, gan_steps in (("residual", 30, 8), ("srgan", 6, 6)):
    generator = build_generator(name, 3, 3, [0.1] * 3, [0.05] * 3)
    generator.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mae")
    pixel = _seconds_per_step(generator, data, pixel_steps)
    gan = SRGAN(generator, discriminator(3), content_loss(""), 1e-3)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4))
    adversarial = _seconds_per_step(gan, data, gan_steps)
    print(f"  {name:<9} pixel stage {pixel * 1000:6.0f} ms/step, GAN stage {adversarial * 1000:6.0f} ms/step; "
          f"demo's pixel stage {demo_steps * pixel / 60:6.1f} min; original's schedule, pixel stage "
          f"{original_steps * pixel / 3600:6.1f} h, as many GAN steps {original_steps * adversarial / 3600:6.1f} h")


if __name__ == "__main__":
  peak = matmul_gflops()
  inference(peak)
  training_throughput()
  training_steps()

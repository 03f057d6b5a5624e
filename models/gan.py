"""Stage 2 of training: the generator fine-tuned against the discriminator (SRGAN).

Generator loss = content loss (models.losses.content_loss) + adversarial_weight x BCE(D(sr) -> real);
discriminator loss = BCE(D(hr) -> real) + BCE(D(sr) -> fake). Both use Adam; evaluation reports the PSNR of the
generator, which is what blessing judges.
"""
import keras
import tensorflow as tf

from redes.evaluation.metrics import psnr


class SRGAN(keras.Model):

  def __init__(self, generator, discriminator, content_loss, adversarial_weight: float, **kwargs):
    super().__init__(**kwargs)
    self.generator, self.discriminator = generator, discriminator
    self.content_loss, self.adversarial_weight = content_loss, adversarial_weight
    self.bce = keras.losses.BinaryCrossentropy(from_logits=True)
    self.trackers = {name: keras.metrics.Mean(name=name) for name in ("g_loss", "d_loss", "content", "psnr")}

  def compile(self, g_optimizer, d_optimizer):  # pylint: disable=arguments-differ
    super().compile()
    self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer

  @property
  def metrics(self):
    return list(self.trackers.values())

  def call(self, lr, training=False):
    return self.generator(lr, training=training)

  def train_step(self, data):
    lr, hr = data
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
      sr = self.generator(lr, training=True)
      real = self.discriminator(hr, training=True)
      fake = self.discriminator(sr, training=True)
      content = self.content_loss(hr, sr)
      g_loss = content + self.adversarial_weight * self.bce(tf.ones_like(fake), fake)
      d_loss = self.bce(tf.ones_like(real), real) + self.bce(tf.zeros_like(fake), fake)
    g_vars, d_vars = self.generator.trainable_variables, self.discriminator.trainable_variables
    self.g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, g_vars), g_vars))
    self.d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, d_vars), d_vars))
    for name, value in (("g_loss", g_loss), ("d_loss", d_loss), ("content", content),
                        ("psnr", tf.reduce_mean(psnr(hr, tf.clip_by_value(sr, 0.0, 1.0))))):
      self.trackers[name].update_state(value)
    return {name: tracker.result() for name, tracker in self.trackers.items()}

  def test_step(self, data):
    lr, hr = data
    sr = tf.clip_by_value(self.generator(lr, training=False), 0.0, 1.0)
    self.trackers["psnr"].update_state(tf.reduce_mean(psnr(hr, sr)))
    return {"psnr": self.trackers["psnr"].result()}

"""Block-wise super-resolution of a georeferenced raster with a served Redes model, in bounded memory.

Used by TileGen and by `redes enhance` / `redes tiles`. The scene is cut into square low-resolution blocks (BLOCK
px, so that an output block covers whole 256 px COG tiles); each block is enhanced from a window that adds a halo of
context around it (the model's receptive radius, measured once when the model loads), and only the block's own
pixels are kept. Away from no-data, the result is therefore the model's output on the whole scene at once, whatever
the block size, and every output pixel is computed once. Blocks are independent: memory depends on the block size,
not on the scene's width or height, and a block without a valid pixel is never sent to the model. Reading the next
block, inference and writing the previous one run at the same time (each calling thread keeps its reading and
writing helper threads from one frame to the next; a lone block is read and written by the caller). No-data (NaN)
input pixels are filled (with the window's mean) before inference, and the writer is told that their s x s output
pixels are no-data, so they never spread. The output grid is the input grid refined s times: same origin and CRS,
pixel size / s (no half-pixel shift).
With `uncertainty`, the Enhancer also runs the model on the 8 flips and rotations of every window and adds one channel,
the per-pixel spread of the 8 outputs (standard deviation, mean over bands, reflectance), which enhance_geotiff
writes as a one-band COG beside the enhanced one.
"""
import concurrent.futures
import contextlib
import logging
import os
import threading

import numpy as np
import rasterio
import tensorflow as tf
from rasterio.transform import Affine
from rasterio.windows import Window
from tqdm import tqdm

from redes.bands import check_band_count
from redes.model_info import OUTPUT_KEY, read_model_info
from redes.publish import cog
from redes.publish.blocks import BLOCK, Block, blocks

RADIUS_PROBE = 64      # the farthest (low-resolution px) the receptive radius is measured out to
INFLUENCE = 1e-6       # reflectance change that counts as an input pixel's influence on an output pixel
_helpers = threading.local()


def _helper(role: str) -> concurrent.futures.ThreadPoolExecutor:
  """The calling thread's own helper thread for `role` ("read", "write"), kept for its next frame or strip: glibc
  gives each thread a heap (arena) of its own and hands an ended thread's to the next new one, so new helpers for
  every frame took each other's arenas and grew them again (frames 2 and 3 of a process at 1,000^2 paid 5,600 and
  2,800 page faults, 80-110 ms more than the next). A helper ends once its thread is gone."""
  if not hasattr(_helpers, role):
    setattr(_helpers, role, concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"redes-{role}"))
  return getattr(_helpers, role)


class _Inline(concurrent.futures.Executor):
  """Runs what is submitted at once, in the calling thread: a lone block has nothing to overlap, and a helper
  thread would only cost it its own heap's first pages (a fresh process's 1,000^2 frame: 195-230 ms inline against
  240-300 through helpers, the frames after it 155-195 against 190-210)."""

  def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
    future = concurrent.futures.Future()
    try:
      future.set_result(fn(*args, **kwargs))
    except Exception as error:        # pylint: disable=broad-except  # raised again by result(), as a thread's is
      future.set_exception(error)
    return future


def _forget_helpers() -> None:
  """A forked child has none of its parent's threads: it starts its own helpers."""
  global _helpers
  _helpers = threading.local()


os.register_at_fork(after_in_child=_forget_helpers)


def _dihedral(images: np.ndarray, k: int, flip: bool) -> np.ndarray:
  """[n, h, w, c] rotated k quarter turns, then mirrored left-right when flip."""
  turned = np.rot90(images, k, axes=(1, 2))
  return turned[:, :, ::-1] if flip else turned


def _undo_dihedral(images: np.ndarray, k: int, flip: bool) -> np.ndarray:
  return np.rot90(images[:, :, ::-1] if flip else images, -k, axes=(1, 2))


def receptive_radius(enhance, n_bands: int, scale: int, probe: int = RADIUS_PROBE) -> int:
  """How far (low-resolution px) one input pixel changes the output of `enhance`, measured by changing the centre
  pixel of a random (2 probe + 1)^2 scene; `probe` when the influence reaches the probe's edge (a model with wider
  context)."""
  side = 2 * probe + 1
  base = np.random.default_rng(0).uniform(0.02, 0.3, (1, side, side, n_bands)).astype(np.float32)
  bumped = base.copy()
  bumped[0, probe, probe] += 0.1
  changed = np.abs(enhance(bumped) - enhance(base))[0].max(axis=-1) > INFLUENCE
  reach = 0
  for along in np.nonzero(changed):                       # output rows, then columns, that the centre pixel changed
    lr = along // scale                                   # the input pixel each output pixel lies in
    reach = max(reach, int(np.abs(lr - probe).max(initial=0)))
  return min(reach, probe)


class Enhancer:
  """Loads a Redes SavedModel and applies its `enhance` signature to [n, h, w, bands] arrays; with uncertainty,
  the output has one more channel: the spread over the 8 flips and rotations of the input. `halo` is the model's
  receptive radius: the context a block needs for its output to equal the whole scene's. The threads of a process
  call the model one at a time: each call already spreads over all of TensorFlow's threads, and calls at once only
  hold more activations (a 10,000^2 frame over 2 publishing threads peaked at 2.0 GB so, against 1.7 GB)."""

  def __init__(self, model_dir: str, uncertainty: bool = False):
    self.model_dir = model_dir
    self.info = read_model_info(model_dir)
    self.scale = self.info.scaling_factor
    self.bands = self.info.bands
    self.uncertainty = uncertainty
    self._fn = tf.saved_model.load(model_dir).signatures["enhance"]
    self._calling = threading.Lock()
    self.halo = receptive_radius(self._enhance, len(self.bands), self.scale)
    if self.halo >= RADIUS_PROBE:
      logging.warning("the model at %s sees beyond %d input px; blocks may differ slightly where they meet",
                      model_dir, RADIUS_PROBE)

  @property
  def out_channels(self) -> int:
    return len(self.bands) + int(self.uncertainty)

  def _enhance(self, lr: np.ndarray) -> np.ndarray:
    """The model's output as a read-only view of TensorFlow's own buffer: Tensor.numpy() would copy it, which
    on a 512^2 block costs 5-9% of the model call."""
    with self._calling:
      return np.asarray(self._fn(lr=tf.constant(np.ascontiguousarray(lr), tf.float32))[OUTPUT_KEY])

  def __call__(self, lr: np.ndarray) -> np.ndarray:
    """[n, h, w, bands] reflectance to [n, s*h, s*w, out channels], maybe a read-only view."""
    if not self.uncertainty:
      return self._enhance(lr)
    outputs = [_undo_dihedral(self._enhance(_dihedral(lr, k, flip)), k, flip) for k in range(4) for flip in (0, 1)]
    spread = np.std(np.stack(outputs), axis=0).mean(axis=-1, keepdims=True)
    return np.concatenate([outputs[0], spread], axis=-1)


def enhance_window(lr: np.ndarray, enhancer) -> tuple[np.ndarray, np.ndarray | None]:
  """Super-resolves one [h, w, bands] window (NaN: no-data) to [s*h, s*w, out channels] and the [s*h, s*w] bool of
  its output pixels that hold a value (None: all of them), the s x s pixels of each valid input pixel; the output's
  other pixels are the model's on the filled input, for the writer to mark as no-data. A window without a valid
  pixel is zeros without a model call."""
  s = enhancer.scale
  if np.isfinite(lr.sum()):                   # no no-data: nothing to fill or mask
    return enhancer(lr[None])[0], None
  valid = np.isfinite(lr).all(axis=-1)
  shape = (lr.shape[0] * s, lr.shape[1] * s)
  if not valid.any():
    return np.zeros((*shape, enhancer.out_channels), np.float32), np.zeros(shape, bool)
  filled = np.where(valid[..., None], lr, lr[valid].mean(axis=0)).astype(np.float32)
  return enhancer(filled[None])[0], valid.repeat(s, axis=0).repeat(s, axis=1)


def block_plan(height: int, width: int, enhancer, block: int = BLOCK, halo: int | None = None,
               rows: tuple[int, int] | None = None) -> list[Block]:
  """The blocks of a height x width input (of the rows [start, stop) only, block-row boundaries), row by row; halo
  defaults to the model's receptive radius."""
  plan = blocks(height, width, block, enhancer.halo if halo is None else halo)
  return [item for item in plan if rows[0] <= item.core.row_off < rows[1]] if rows else plan


def _overlapping(role: str, plan: list[Block]) -> concurrent.futures.Executor:
  """The helper that does `role` beside the model for the blocks of `plan`: the calling thread's own, or, for a
  lone block, the calling thread itself."""
  return _helper(role) if len(plan) > 1 else _Inline()


def enhanced_blocks(read, plan: list[Block], enhancer):
  """Yields (Block, [s*rows, s*cols, out channels] float32, [s*rows, s*cols] bool of the pixels that hold a value or
  None for all) for every block of `plan` (block_plan); the next block is read while this one is inferred.
  read(Window) returns that input window as [rows, cols, bands] reflectance, NaN for no-data."""
  reader = _overlapping("read", plan)
  pending = reader.submit(read, plan[0].read)
  try:
    for i, item in enumerate(tqdm(plan, desc="enhance", unit="block", leave=False, disable=None)):
      lr = pending.result()
      if i + 1 < len(plan):
        pending = reader.submit(read, plan[i + 1].read)
      enhanced, valid = enhance_window(lr, enhancer)
      yield item, item.crop(enhanced, enhancer.scale), None if valid is None else item.crop(valid, enhancer.scale)
  finally:
    concurrent.futures.wait([pending])     # no read outlives the caller's raster


def enhance_array(image: np.ndarray, enhancer, block: int = BLOCK, halo: int | None = None) -> np.ndarray:
  """Super-resolves [h, w, bands] reflectance (NaN: no-data) in memory to [s*h, s*w, out channels], NaN where the
  input was."""
  height, width, _ = image.shape
  s = enhancer.scale
  out = np.empty((height * s, width * s, enhancer.out_channels), np.float32)

  def read(window: Window) -> np.ndarray:
    return image[window.toslices()]
  for item, enhanced, valid in enhanced_blocks(read, block_plan(height, width, enhancer, block, halo), enhancer):
    out[item.output_window(s).toslices()] = enhanced if valid is None else np.where(valid[..., None], enhanced,
                                                                                      np.float32(np.nan))
  return out


def enhance_geotiff(src_path: str, dst_path: str, enhancer, block: int = BLOCK, halo: int | None = None,
                    uncertainty_path: str = "") -> dict:
  """Writes the super-resolved Cloud-Optimized GeoTIFF of src_path (same CRS and bounds, pixel size / s), block
  by block (each written while the next is inferred), to a temporary name that is renamed when complete, and, with
  an uncertainty Enhancer, the one-band COG of the spread at uncertainty_path; returns the enhanced COG's profile."""
  for part in enhance_rows(src_path, dst_path, enhancer, None, block, halo, uncertainty_path):
    cog.assemble([part])
  with rasterio.open(dst_path) as out:
    return out.profile


def enhance_rows(src_path: str, dst_path: str, enhancer, rows: tuple[int, int] | None = None, block: int = BLOCK,
                 halo: int | None = None, uncertainty_path: str = "") -> list[cog.Part]:
  """Enhances the low-resolution rows [start, stop) of src_path (default: all; block-row boundaries, such as
  redes.publish.blocks.strips) into the parts (redes.publish.cog.Part) of the enhanced COG at dst_path that hold
  them, and with an uncertainty Enhancer of the spread's COG at uncertainty_path; returns those parts, which
  cog.assemble puts together with the other rows' into the COGs."""
  s = enhancer.scale
  if enhancer.uncertainty and not uncertainty_path:
    raise ValueError("an Enhancer with uncertainty needs uncertainty_path, where the spread is written")
  with rasterio.open(src_path) as src:
    check_band_count(src_path, src.count, enhancer.bands)
    profile = {"crs": src.crs, "count": src.count, "width": src.width * s, "height": src.height * s,
               "transform": src.transform @ Affine.scale(1 / s)}
    out_rows = None if rows is None else (rows[0] * s, min(rows[1] * s, profile["height"]))

    def read(window: Window) -> np.ndarray:
      return np.moveaxis(cog.read_values(src, window=window), 0, -1)

    logging.info("enhancing %s (%dx%d px%s) in blocks of %d px with a halo of %d px%s", src_path, src.width,
                 src.height, f", rows {rows[0]} to {rows[1]}" if rows else "", block,
                 enhancer.halo if halo is None else halo,
                 ", and the spread over 8 flips and rotations" if enhancer.uncertainty else "")
    n_bands = len(enhancer.bands)
    with contextlib.ExitStack() as stack:
      align = block * s                     # where output blocks start
      targets = [(stack.enter_context(cog.part_writing(dst_path, profile, enhancer.bands, out_rows, align)),
                  slice(0, n_bands))]
      if enhancer.uncertainty:
        spread = cog.part_writing(uncertainty_path, {**profile, "count": 1}, ("spread over 8 flips and rotations",),
                                  out_rows, align)
        targets.append((stack.enter_context(spread), slice(n_bands, n_bands + 1)))
      plan = block_plan(src.height, src.width, enhancer, block, halo, rows)
      writer, written = _overlapping("write", plan), []
      stack.callback(concurrent.futures.wait, written)   # no write outlives its raster, even when a block raises

      def write(window: Window, enhanced: np.ndarray, valid: np.ndarray | None) -> None:
        for raster, channels in targets:
          raster.write(np.moveaxis(enhanced[..., channels], -1, 0), window, valid)
      for item, enhanced, valid in enhanced_blocks(read, plan, enhancer):
        if written:
          written.pop().result()             # one block written while the next is inferred: memory stays bounded
        written.append(writer.submit(write, item.output_window(s), enhanced, valid))
      written.pop().result()
  return [raster.part for raster, _ in targets]

"""The comparison figure of an evaluation: for a few test patches, side by side, the 30 m input, bicubic, the
model and the 10 m target (RGB, reflectance 0..0.3 stretched to 0..255); bicubic and the model are labelled with
the PSNR the caller gives (ComparisonFigure computes it with the evaluator's own function,
redes.evaluation.metrics.psnr)."""
import numpy as np
from PIL import Image, ImageDraw

from redes.atomic import staged
from redes.publish.tiles import REFLECTANCE_MAX

COLUMNS = ("30 m input", "bicubic", "model", "10 m target")
LABEL_HEIGHT = 16


def _rgb(image: np.ndarray, size: int) -> Image.Image:
  rgb = np.clip(image[..., :3] / REFLECTANCE_MAX * 255.0, 0, 255).astype(np.uint8)
  return Image.fromarray(rgb).resize((size, size), Image.NEAREST)


def most_textured(hr_patches: np.ndarray, count: int) -> list[int]:
  """Indexes of the `count` patches with the largest spatial variance (where detail is there to recover)."""
  return sorted(np.argsort([-float(np.var(p[..., :3])) for p in hr_patches])[:count].tolist())


def write_figure(path: str, lr, bicubic, model, hr, psnr_bicubic, psnr_model, tile: int = 192) -> str:
  """Writes the PNG for batches [n, ...] of the four images, bicubic and the model labelled with their PSNR ([n]
  each, dB); returns the path."""
  n = len(hr)
  figure = Image.new("RGB", (tile * len(COLUMNS), (tile + LABEL_HEIGHT) * n), "white")
  draw = ImageDraw.Draw(figure)
  for row in range(n):
    top = row * (tile + LABEL_HEIGHT)
    psnr = {1: psnr_bicubic[row], 2: psnr_model[row]}
    for col, (name, image) in enumerate(zip(COLUMNS, (lr[row], bicubic[row], model[row], hr[row]))):
      figure.paste(_rgb(image, tile), (col * tile, top + LABEL_HEIGHT))
      label = f"{name} {psnr[col]:.2f} dB" if col in psnr else name
      draw.text((col * tile + 4, top + 2), label, fill="black")
  with staged(path) as staging:
    figure.save(staging, format="PNG")
  return path

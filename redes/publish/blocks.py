"""The block plan of windowed enhancement (redes.publish.enhance): a scene cut into square low-resolution blocks,
each read with a halo of context around it and enhanced on its own, so that blocks can be done in any order, by
any worker, and come out the same; and into strips of block rows, which publishing's workers enhance apart
(redes.publish.publishing_pipeline)."""
import dataclasses

import numpy as np
from rasterio.windows import Window

BLOCK = 512   # low-resolution block side: one model call, an output of whole 256 px COG tiles at scale 2, 3 or 4
STRIP_BLOCKS = 2   # block rows in a strip: the unit of enhancement a publishing worker takes


@dataclasses.dataclass(frozen=True)
class Block:
  """A low-resolution block (`core`) and the window read to enhance it (`read`: the core and its halo, inside the
  scene), as rasterio Windows."""
  core: Window
  read: Window

  def output_window(self, scale: int) -> Window:
    return Window(self.core.col_off * scale, self.core.row_off * scale, self.core.width * scale,
                  self.core.height * scale)

  def crop(self, enhanced: np.ndarray, scale: int) -> np.ndarray:
    """The core's pixels of the enhanced read window."""
    top, left = (self.core.row_off - self.read.row_off) * scale, (self.core.col_off - self.read.col_off) * scale
    return enhanced[top:top + self.core.height * scale, left:left + self.core.width * scale]


def blocks(height: int, width: int, block: int, halo: int) -> list[Block]:
  """The blocks of a height x width scene, row by row."""
  plan = []
  for row in range(0, height, block):
    for col in range(0, width, block):
      rows, cols = min(block, height - row), min(block, width - col)
      top, left = max(row - halo, 0), max(col - halo, 0)
      bottom, right = min(row + rows + halo, height), min(col + cols + halo, width)
      plan.append(Block(Window(col, row, cols, rows), Window(left, top, right - left, bottom - top)))
  return plan


def strips(height: int, block: int = BLOCK) -> list[tuple[int, int]]:
  """The low-resolution row ranges [start, stop) of STRIP_BLOCKS block rows each of a scene `height` rows high."""
  step = block * STRIP_BLOCKS
  return [(row, min(row + step, height)) for row in range(0, height, step)]

"""Files a reader never sees half-written: the content goes to `<path>.part`, which is then renamed over `path`.
Every file that a later step, a re-run or a user relies on is written this way (tiles, animations, the viewer, the
run summary, the Earth Engine export manifest, the compiled Kubeflow specs)."""
import os


def write_atomically(path: str, data: bytes | str) -> str:
  """Writes data (text as UTF-8) to path through `<path>.part`; returns path."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(f"{path}.part", "w" if isinstance(data, str) else "wb") as f:
    f.write(data)
  os.replace(f"{path}.part", path)
  return path

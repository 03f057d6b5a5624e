"""Custom TFX components of Redes, one folder each (component.py, executor.py, tests beside them).

Custom artifact types are reachable as `components.<Type>` because KFP v2 imports an artifact's TYPE_NAME as a
class path; they are loaded on first use so that importing a component does not pull in everything else.
"""


def __getattr__(name):
  if name in ("TileSet", "Figure"):
    # pylint: disable-next=import-outside-toplevel  (loading TFX's artifact classes takes seconds)
    from components import artifacts
    return getattr(artifacts, name)
  raise AttributeError(name)

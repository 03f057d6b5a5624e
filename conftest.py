"""Fixtures shared by the tests beside the modules and by tests/."""
import numpy as np
import pytest


@pytest.fixture(scope="session")
def demo_dir():
  """The embedded demo imagery (fetched by `make install`)."""
  from redes import demo_data
  return demo_data.fetch()


@pytest.fixture(scope="session")
def bicubic_model_dir(tmp_path_factory):
  """A served bicubic model (the export contract of every Redes model), RGB at scale 3."""
  from models import export
  path = str(tmp_path_factory.mktemp("bicubic") / "model")
  export.export_model(export.bicubic_upsample(3), path, ("red", "green", "blue"), 96, 3, name="bicubic")
  return path


@pytest.fixture
def rng():
  return np.random.default_rng(7)

"""Fixtures shared by the tests beside the modules and by tests/."""
import functools

import numpy as np
import pytest


@pytest.fixture(scope="session")
def demo_dir():
  """The embedded demo imagery (fetched by `make install`)."""
  from redes.ingest import demo_data
  return demo_data.fetch()


@pytest.fixture(scope="session")
def bicubic_model_dir(tmp_path_factory):
  """A served bicubic model (the export contract of every Redes model), RGB at scale 3."""
  from models import export
  from redes.resampling import bicubic_upsample
  path = str(tmp_path_factory.mktemp("bicubic") / "model")
  export.export_model(functools.partial(bicubic_upsample, scale=3), path, ("red", "green", "blue"), 96, 3,
                      name="bicubic")
  return path


@pytest.fixture
def rng():
  return np.random.default_rng(7)


@pytest.fixture(scope="session")
def service_account_key():
  """A freshly generated service-account key (no real account behind it)."""
  from cryptography.hazmat.primitives import serialization
  from cryptography.hazmat.primitives.asymmetric import rsa
  key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
  pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode()
  return {"type": "service_account", "project_id": "redes-test", "private_key_id": "k1", "private_key": pem,
          "client_email": "redes@redes-test.iam.gserviceaccount.com", "client_id": "1",
          "token_uri": "https://oauth2.googleapis.com/token"}


@pytest.fixture
def earthengine(demo_dir, service_account_key, monkeypatch):
  """A loopback fake of Earth Engine serving the demo scene, and credentials in the environment pointing at it.

  Yields the fake (its .url, .requests, .errors; .storage is a fake Cloud Storage that exports write to and
  GDAL's /vsigs/ reads from); the real ee client talks to it over HTTP.
  """
  import json

  import ee

  from tests.fakes.cloud_storage import FakeCloudStorage
  from tests.fakes.demo_pixels import DemoPixels
  from tests.fakes.earthengine import FakeEarthEngine
  # ee.Initialize also fetches a deprecation catalog from a public host; keep the test hermetic.
  monkeypatch.setattr(ee.deprecation, "_FetchDataCatalogStac", lambda: {})
  with FakeCloudStorage() as storage, FakeEarthEngine(DemoPixels(demo_dir), storage=storage) as fake:
    monkeypatch.setenv("CPL_GS_ENDPOINT", storage.endpoint)
    monkeypatch.setenv("GS_NO_SIGN_REQUEST", "YES")
    key = {**service_account_key, "token_uri": f"{fake.url}/token"}
    monkeypatch.setenv("EE_PRIVATE_KEY", json.dumps(key))
    monkeypatch.setenv("PROJECT_ID", "redes-test")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    yield fake

import json
import os
import subprocess
import sys

import pytest

from redes.ingest.earthengine import credentials
from redes.ingest.earthengine.credentials import CredentialsError


def test_service_account_key_as_text_or_path(service_account_key, tmp_path):
  creds, project = credentials.load({"EE_PRIVATE_KEY": json.dumps(service_account_key)})
  assert project == "redes-test"
  assert creds.service_account_email == "redes@redes-test.iam.gserviceaccount.com"
  path = tmp_path / "key.json"
  path.write_text(json.dumps(service_account_key))
  _, project = credentials.load({"EE_PRIVATE_KEY": str(path), "PROJECT_ID": "other-project"})
  assert project == "other-project"


@pytest.fixture(autouse=True)
def _no_gcloud_credentials(tmp_path, monkeypatch):
  monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path))     # no gcloud login of the machine running the tests


@pytest.mark.parametrize("env, message", [
    ({}, "no Earth Engine credentials: set EE_PRIVATE_KEY"),
    ({"EE_PRIVATE_KEY": "/no/such/key.json"}, "neither JSON text nor the path of an existing key file"),
    ({"EE_PRIVATE_KEY": "{broken"}, "EE_PRIVATE_KEY is not valid JSON"),
    ({"EE_PRIVATE_KEY": '{"type": "authorized_user"}'}, "is not a service-account key"),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "/no/such/file.json"},
     "GOOGLE_APPLICATION_CREDENTIALS: '/no/such/file.json' is not a file"),
])
def test_missing_or_malformed_credentials(env, message):
  with pytest.raises(CredentialsError, match=message):
    credentials.load(env)


def test_a_credentials_file_error_repeats_none_of_its_content(service_account_key, tmp_path):
  for name, content in (("type", {**service_account_key, "type": "s3cr3t-type"}),
                        ("field", {**service_account_key, "private_key": "s3cr3t-key"}),
                        ("json", "s3cr3t {")):
    path = tmp_path / f"{name}.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    with pytest.raises(CredentialsError, match=f"GOOGLE_APPLICATION_CREDENTIALS: '{path}' ") as err:
      credentials.load({"GOOGLE_APPLICATION_CREDENTIALS": str(path)})
    assert "s3cr3t" not in str(err.value) and len(str(err.value).splitlines()) == 1


def test_errors_never_show_the_secret(service_account_key):
  broken = {**service_account_key, "private_key": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END"}
  with pytest.raises(CredentialsError) as err:
    credentials.load({"EE_PRIVATE_KEY": json.dumps(broken)})
  assert "not a valid PEM RSA key" in str(err.value) and "c2VjcmV0LXZhbHVl" not in str(err.value)
  no_project = {k: v for k, v in service_account_key.items() if k != "project_id"}
  with pytest.raises(CredentialsError, match="no Google Cloud project: set PROJECT_ID"):
    credentials.load({"EE_PRIVATE_KEY": json.dumps(no_project)})


def test_without_a_key_the_service_account_of_the_machine_is_used(tmp_path):
  """On Vertex AI (and on GKE with Workload Identity) no key is given: Application Default Credentials come from
  the metadata server, as the job's service account. google-auth reads the server's address on import, so the
  check runs in a fresh process."""
  from tests.fakes.metadata_server import FakeMetadataServer
  script = ("import google.auth.transport.requests as r\n"
            "from redes.ingest.earthengine import credentials\n"
            "creds, project = credentials.load()\n"
            "creds.refresh(r.Request())\n"
            "print(project, creds.token, creds.service_account_email)\n")
  hidden = ("EE_PRIVATE_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "PROJECT_ID")
  env = {k: v for k, v in os.environ.items() if k not in hidden}
  with FakeMetadataServer("redes-vertex", "pipelines@redes-vertex.iam.gserviceaccount.com", "ya29.fake") as server:
    env.update(GCE_METADATA_HOST=server.host, GCE_METADATA_IP=server.host, CLOUDSDK_CONFIG=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], env={**env, **extra}, capture_output=True, text=True,
                           check=False) for extra in ({}, {"PROJECT_ID": "other-project"})]
  assert [done.returncode for done in runs] == [0, 0], runs[0].stderr
  assert runs[0].stdout.split() == ["redes-vertex", "ya29.fake", "pipelines@redes-vertex.iam.gserviceaccount.com"]
  assert runs[1].stdout.split()[0] == "other-project"                # PROJECT_ID wins over the machine's project
  token_queries = [query for path, query in server.requests if path.endswith("/token")]
  assert len(token_queries) == 2
  assert "https://www.googleapis.com/auth/earthengine" in token_queries[0]["scopes"][0].split(",")

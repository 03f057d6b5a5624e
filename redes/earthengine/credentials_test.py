import json

import pytest

from redes.earthengine import credentials
from redes.earthengine.credentials import CredentialsError


def test_service_account_key_as_text_or_path(service_account_key, tmp_path):
  creds, project = credentials.load({"EE_PRIVATE_KEY": json.dumps(service_account_key)})
  assert project == "redes-test"
  assert creds.service_account_email == "redes@redes-test.iam.gserviceaccount.com"
  path = tmp_path / "key.json"
  path.write_text(json.dumps(service_account_key))
  _, project = credentials.load({"EE_PRIVATE_KEY": str(path), "PROJECT_ID": "other-project"})
  assert project == "other-project"


@pytest.mark.parametrize("env, message", [
    ({}, "no Earth Engine credentials: set EE_PRIVATE_KEY"),
    ({"EE_PRIVATE_KEY": "/no/such/key.json"}, "neither JSON text nor the path of an existing key file"),
    ({"EE_PRIVATE_KEY": "{broken"}, "EE_PRIVATE_KEY is not valid JSON"),
    ({"EE_PRIVATE_KEY": '{"type": "authorized_user"}'}, "is not a service-account key"),
    ({"GOOGLE_APPLICATION_CREDENTIALS": "/no/such/file.json"}, "GOOGLE_APPLICATION_CREDENTIALS: File"),
])
def test_missing_or_malformed_credentials(env, message):
  with pytest.raises(CredentialsError, match=message):
    credentials.load(env)


def test_errors_never_show_the_secret(service_account_key):
  broken = {**service_account_key, "private_key": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXZhbHVl\n-----END"}
  with pytest.raises(CredentialsError) as err:
    credentials.load({"EE_PRIVATE_KEY": json.dumps(broken)})
  assert "not a valid PEM RSA key" in str(err.value) and "c2VjcmV0LXZhbHVl" not in str(err.value)
  no_project = {k: v for k, v in service_account_key.items() if k != "project_id"}
  with pytest.raises(CredentialsError, match="no Google Cloud project: set PROJECT_ID"):
    credentials.load({"EE_PRIVATE_KEY": json.dumps(no_project)})

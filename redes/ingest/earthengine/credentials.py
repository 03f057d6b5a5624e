"""Earth Engine credentials from the environment, checked before any work and never logged or stored.

In this order: EE_PRIVATE_KEY (a service-account JSON key, as the JSON text itself or as a path to the file) with
PROJECT_ID (or the key's project_id); GOOGLE_APPLICATION_CREDENTIALS (any key file google-auth reads) with
PROJECT_ID (or the file's project); otherwise Application Default Credentials (google.auth.default: the gcloud
ADC file, or the metadata server of the machine the code runs on, which gives the service account of a Vertex AI
pipeline job or of a GKE pod through Workload Identity) with PROJECT_ID or their project. Errors name the variable
and what is wrong, never the secret.
"""
import json
import os

SCOPES = ("https://www.googleapis.com/auth/earthengine", "https://www.googleapis.com/auth/cloud-platform")
_KEY_FIELDS = ("type", "client_email", "private_key", "token_uri")


class CredentialsError(ValueError):
  pass


# The credential file types google.auth.load_credentials_from_file reads.
_FILE_TYPES = ("service_account", "authorized_user", "external_account", "external_account_authorized_user",
               "impersonated_service_account", "gdch_service_account")


def _service_account_info(text: str) -> dict:
  if not text.lstrip().startswith("{"):
    if not os.path.isfile(text):
      raise CredentialsError("EE_PRIVATE_KEY is neither JSON text nor the path of an existing key file")
    with open(text) as f:
      text = f.read()
  try:
    info = json.loads(text)
  except json.JSONDecodeError:
    raise CredentialsError("EE_PRIVATE_KEY is not valid JSON (expected a service-account key)") from None
  if not isinstance(info, dict) or info.get("type") != "service_account":
    raise CredentialsError("EE_PRIVATE_KEY is not a service-account key (its 'type' must be 'service_account')")
  missing = [k for k in _KEY_FIELDS if not info.get(k)]
  if missing:
    raise CredentialsError(f"EE_PRIVATE_KEY lacks the field(s) {', '.join(missing)}")
  return info


def _file_problem(path: str) -> str:
  """What is wrong with a credentials file google-auth refused, without any of its content."""
  if not os.path.isfile(path):
    return f"{path!r} is not a file"
  try:
    with open(path) as f:
      info = json.load(f)
  except (OSError, ValueError):
    return f"{path!r} is not a JSON credentials file"
  if not isinstance(info, dict) or info.get("type") not in _FILE_TYPES:
    return f"{path!r} has a 'type' google-auth cannot load; expected one of {', '.join(_FILE_TYPES)}"
  return f"{path!r} is a {info['type']} file that google-auth cannot load (a field is missing or malformed)"


def load(env=None):
  """Returns (credentials, project) for ee.Initialize; raises CredentialsError before any request."""
  env = os.environ if env is None else env
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need google-auth)
  from google.oauth2 import service_account
  key, project = env.get("EE_PRIVATE_KEY"), env.get("PROJECT_ID")
  if key:
    info = _service_account_info(key)
    try:
      credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except ValueError:
      raise CredentialsError("EE_PRIVATE_KEY has a private_key that is not a valid PEM RSA key") from None
    project = project or info.get("project_id")
  elif env.get("GOOGLE_APPLICATION_CREDENTIALS"):
    # pylint: disable=import-outside-toplevel  (only Earth Engine runs need google-auth)
    import google.auth
    from google.auth import exceptions
    path = env["GOOGLE_APPLICATION_CREDENTIALS"]
    try:
      credentials, file_project = google.auth.load_credentials_from_file(path, scopes=SCOPES)
    except exceptions.DefaultCredentialsError:
      # google-auth's message may quote the file's fields; this one names only the path and what is expected
      raise CredentialsError(f"GOOGLE_APPLICATION_CREDENTIALS: {_file_problem(path)}") from None
    project = project or file_project
  else:
    # pylint: disable=import-outside-toplevel  (only Earth Engine runs need google-auth)
    import google.auth
    from google.auth import exceptions
    try:
      credentials, default_project = google.auth.default(scopes=SCOPES)
    except exceptions.DefaultCredentialsError:
      raise CredentialsError("no Earth Engine credentials: set EE_PRIVATE_KEY (service-account JSON or its path) "
                             "and PROJECT_ID, or GOOGLE_APPLICATION_CREDENTIALS, or run where Application Default "
                             "Credentials exist (gcloud auth application-default login; a Vertex AI job's or a GKE "
                             "workload's service account)") from None
    project = project or default_project
  if not project:
    raise CredentialsError("no Google Cloud project: set PROJECT_ID")
  return credentials, project


def initialize(env=None, url: str | None = None) -> str:
  """ee.Initialize with the environment's credentials (url: another Earth Engine endpoint); returns the project."""
  # pylint: disable-next=import-outside-toplevel  (only Earth Engine runs need ee, which takes over a second to import)
  import ee
  credentials, project = load(env)
  ee.Initialize(credentials=credentials, project=project, url=url)
  return project

"""A loopback fake of the Compute Engine metadata server, which gives a Vertex AI pipeline job (and a GKE pod with
Workload Identity) its service account: google-auth's Application Default Credentials ping it, read the project
and the default service account, and fetch access tokens from it. Point google-auth at it with GCE_METADATA_HOST
and GCE_METADATA_IP (read when google.auth is imported, so in a fresh process). Requests are recorded."""
import json
import urllib.parse

from tests.fakes.loopback import LoopbackServer, QuietHandler

ACCOUNT = "/computeMetadata/v1/instance/service-accounts/default"


class FakeMetadataServer(LoopbackServer):

  def __init__(self, project: str, email: str, token: str):
    self.project, self.email, self.token = project, email, token
    self.requests = []          # (path, query dict)
    super().__init__()
    self.host = self.url.removeprefix("http://")

  def _answer(self, path: str, query: dict):
    """(status, content type, body) of one request."""
    if path == "/":
      return 200, "text/plain", ""
    if path == "/computeMetadata/v1/project/project-id":
      return 200, "text/plain", self.project
    if path == "/computeMetadata/v1/universe/universe-domain":
      return 200, "text/plain", "googleapis.com"
    if path == f"{ACCOUNT}/" and query.get("recursive") == ["true"]:
      return 200, "application/json", json.dumps({"email": self.email, "aliases": ["default"],
                                                  "scopes": ["https://www.googleapis.com/auth/cloud-platform"]})
    if path in (f"{ACCOUNT}/token", f"{ACCOUNT.rsplit('/', 1)[0]}/{self.email}/token"):
      return 200, "application/json", json.dumps({"access_token": self.token, "expires_in": 3599,
                                                  "token_type": "Bearer"})
    return 404, "text/plain", "not found"

  def _handler(self):
    fake = self

    class Handler(QuietHandler):
      def do_GET(self):  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        fake.requests.append((url.path, query))
        status, content_type, body = fake._answer(url.path, query)  # pylint: disable=protected-access
        if self.headers.get("Metadata-Flavor") != "Google":
          status, content_type, body = 403, "text/plain", "Missing Metadata-Flavor:Google header."
        payload = body.encode()
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
    return Handler

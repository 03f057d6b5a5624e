"""Starting compiled pipelines (kubeflow_runner.py --submit / --schedule) on Kubeflow Pipelines through kfp.Client,
or on Vertex AI Pipelines through google-cloud-aiplatform (PipelineJob, PipelineJobSchedule).

On Kubeflow the pipeline is uploaded (or, when one of that name exists, uploaded as a new version of it) so that
it shows in the KFP UI's pipeline list; then a run starts, or a recurring run is created, with the pipeline root
in its runtime config (the KFP backend never reads the spec's own root, and would fall back to its MinIO store).
Schedules on either service run one at a time, with caching off so that each run ingests and trains again;
Kubeflow is told not to catch up missed runs, and Vertex AI schedules never do. Each service gets the cron string
it reads as the user meant it (pipeline.schedule). Failures are one line (SubmitError).
"""
import datetime
import warnings

from pipeline.schedule import KUBEFLOW, VERTEX, Schedule


class SubmitError(RuntimeError):
  """The service could not be reached or refused the request; the message is one line."""


def _first_line(err: Exception) -> str:
  text = str(err).strip().splitlines()
  return text[0] if text else type(err).__name__


def connect(host: str):
  """A kfp.Client of the KFP API at host, which answered; SubmitError when it cannot be reached."""
  # pylint: disable=import-outside-toplevel  (kfp takes over a second to import; only Kubeflow submissions need it)
  import kfp
  import urllib3
  try:
    with warnings.catch_warnings():
      warnings.simplefilter("ignore", FutureWarning)    # "This client only works with KFP v2.0.0-beta.2 and later"
      return kfp.Client(host=host)
  except (urllib3.exceptions.HTTPError, OSError) as err:
    reason = getattr(err, "reason", None) or err
    raise SubmitError(f"argument --host: cannot reach the Kubeflow Pipelines API at {host} ({_first_line(reason)})") \
        from None


def submit_kubeflow(client, package_path: str, pipeline_name: str, experiment: str, pipeline_root: str,
                    arguments: dict, schedule: Schedule | None = None) -> str:
  """Uploads package_path through client and starts it once, or on the schedule; returns lines naming what was
  created (and, for a schedule, when its next runs fall)."""
  # pylint: disable-next=import-outside-toplevel  (with kfp, only Kubeflow submissions need it)
  from kfp_server_api.exceptions import ApiException
  stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
  try:
    try:
      pipeline = client.upload_pipeline(package_path, pipeline_name=pipeline_name)
      pipeline_id, version = pipeline.pipeline_id, "first version"
    except ApiException as err:
      if err.status != 409:
        raise
      pipeline_id = client.upload_pipeline_version(package_path, pipeline_version_name=f"{pipeline_name}-{stamp}",
                                                   pipeline_name=pipeline_name).pipeline_id
      version = f"version {pipeline_name}-{stamp}"
    experiment_id = client.create_experiment(experiment).experiment_id
    if schedule:
      cron = schedule.for_service(KUBEFLOW)
      recurring = client.create_recurring_run(
          experiment_id=experiment_id, job_name=f"{pipeline_name} {schedule.cron} {schedule.timezone}",
          cron_expression=cron, max_concurrency=1, no_catchup=True, pipeline_package_path=package_path,
          params=arguments, pipeline_root=pipeline_root, enable_caching=False)
      return (f"pipeline {pipeline_id} ({version}); recurring run {recurring.recurring_run_id} in experiment "
              f"{experiment}, root {pipeline_root}\nKubeflow schedule {schedule.describe(KUBEFLOW)}")
    run = client.run_pipeline(experiment_id=experiment_id, job_name=f"{pipeline_name} {stamp}",
                              pipeline_package_path=package_path, params=arguments, pipeline_root=pipeline_root)
  except ApiException as err:
    raise SubmitError(f"Kubeflow Pipelines answered {err.status} {err.reason}: {_first_line(err.body or '')}") \
        from None
  return f"pipeline {pipeline_id} ({version}); run {run.run_id} in experiment {experiment}, root {pipeline_root}"


def submit_vertex(job_path: str, project: str, region: str, pipeline_root: str, arguments: dict,
                  schedule: Schedule | None = None, service_account: str = "", api_endpoint: str = "") -> str:
  """Starts the PipelineJob of job_path on Vertex AI once, or on the schedule; returns lines naming what was
  created. api_endpoint: another Vertex AI REST endpoint (default: the region's)."""
  # pylint: disable=import-outside-toplevel  (aiplatform takes ~3 s to import; only Vertex AI submissions need it)
  from google.api_core import exceptions
  from google.auth import exceptions as auth_exceptions
  from google.cloud import aiplatform
  settings = {"project": project, "location": region}
  if api_endpoint:
    from google.auth.credentials import AnonymousCredentials
    settings.update(api_endpoint=api_endpoint, api_transport="rest", credentials=AnonymousCredentials())
  try:
    aiplatform.init(**settings)
    job = aiplatform.PipelineJob(display_name="redes", template_path=job_path, pipeline_root=pipeline_root,
                                 parameter_values=arguments, enable_caching=not schedule)
    if schedule:
      created = job.create_schedule(cron=schedule.for_service(VERTEX), display_name=f"redes {schedule.cron}",
                                    max_concurrent_run_count=1, service_account=service_account or None)
      return f"Vertex AI schedule {created.resource_name}\nVertex AI schedule {schedule.describe(VERTEX)}"
    job.submit(service_account=service_account or None)
  except (exceptions.GoogleAPIError, auth_exceptions.GoogleAuthError) as err:
    raise SubmitError(f"Vertex AI: {_first_line(err)}") from None
  return f"Vertex AI pipeline job {job.resource_name}, root {pipeline_root}"

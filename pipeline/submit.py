"""Starting compiled pipelines (kubeflow_runner.py --submit / --schedule) on Kubeflow Pipelines through kfp.Client,
or on Vertex AI Pipelines through google-cloud-aiplatform (PipelineJob, PipelineJobSchedule).

On Kubeflow the pipeline is uploaded (or, when one of that name exists, uploaded as a new version of it) so that
it shows in the KFP UI's pipeline list; then a run starts, or a recurring run is created. Schedules on either
service run one at a time, with caching off so that each run ingests and trains again; Kubeflow is told not to
catch up missed runs, and Vertex AI schedules never do.
"""
import datetime


def submit(package_path: str, host: str, pipeline_name: str, experiment: str, arguments: dict,
           schedule: str = "") -> str:
  """Uploads package_path to the KFP API at host and starts it once, or on the cron schedule; returns a line
  naming what was created."""
  import kfp  # pylint: disable=import-outside-toplevel
  from kfp_server_api.exceptions import ApiException  # pylint: disable=import-outside-toplevel
  client = kfp.Client(host=host)
  stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
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
    recurring = client.create_recurring_run(
        experiment_id=experiment_id, job_name=f"{pipeline_name} {schedule}", cron_expression=schedule,
        max_concurrency=1, no_catchup=True, pipeline_package_path=package_path, params=arguments,
        enable_caching=False)
    return (f"pipeline {pipeline_id} ({version}); recurring run {recurring.recurring_run_id} on '{schedule}' "
            f"in experiment {experiment}")
  run = client.run_pipeline(experiment_id=experiment_id, job_name=f"{pipeline_name} {stamp}",
                            pipeline_package_path=package_path, params=arguments)
  return f"pipeline {pipeline_id} ({version}); run {run.run_id} in experiment {experiment}"


def submit_vertex(job_path: str, project: str, region: str, pipeline_root: str, arguments: dict,
                  schedule: str = "", service_account: str = "", api_endpoint: str = "") -> str:
  """Starts the PipelineJob of job_path on Vertex AI once, or on the cron schedule; returns a line naming what was
  created. api_endpoint: another Vertex AI REST endpoint (default: the region's)."""
  from google.cloud import aiplatform  # pylint: disable=import-outside-toplevel
  settings = {"project": project, "location": region}
  if api_endpoint:
    from google.auth.credentials import AnonymousCredentials  # pylint: disable=import-outside-toplevel
    settings.update(api_endpoint=api_endpoint, api_transport="rest", credentials=AnonymousCredentials())
  aiplatform.init(**settings)
  job = aiplatform.PipelineJob(display_name="redes", template_path=job_path, pipeline_root=pipeline_root,
                               parameter_values=arguments, enable_caching=not schedule)
  if schedule:
    created = job.create_schedule(cron=schedule, display_name=f"redes {schedule}", max_concurrent_run_count=1,
                                  service_account=service_account or None)
    return f"Vertex AI schedule {created.resource_name} on '{schedule}'"
  job.submit(service_account=service_account or None)
  return f"Vertex AI pipeline job {job.resource_name}"

"""Starting compiled pipelines on Kubeflow Pipelines through kfp.Client (kubeflow_runner.py --submit / --schedule).

The pipeline is uploaded (or, when one of that name exists, uploaded as a new version of it) so that it shows in
the KFP UI's pipeline list; then a run starts, or a recurring run is created: one run at a time, no catch-up of
missed runs, and caching off, so that each scheduled run ingests and trains again.
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

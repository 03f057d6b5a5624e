"""The Beam arguments of the pipeline's Beam components: local runners name Redes' setup.py, so TFX's Beam executors
do not package TFX into a temporary folder they leave behind; remote runners get the arguments as given."""
import pytest

from pipeline.pipeline import BEAM_ARGS, LOCAL_DEPENDENCIES, component_beam_args


@pytest.mark.parametrize("given, expected", [
    (None, [*BEAM_ARGS, LOCAL_DEPENDENCIES]),
    (["--direct_num_workers=4", "--direct_running_mode=multi_processing"],
     ["--direct_num_workers=4", "--direct_running_mode=multi_processing", LOCAL_DEPENDENCIES]),
    (["--runner=FnApiRunner", "--requirements_file=req.txt"], ["--runner=FnApiRunner", "--requirements_file=req.txt"]),
    (["--runner=DataflowRunner", "--region=europe-west4"], ["--runner=DataflowRunner", "--region=europe-west4"]),
])
def test_local_runners_name_the_dependencies_remote_ones_are_left_as_given(given, expected):
  assert component_beam_args(given) == expected


def test_tfx_beam_executors_build_no_package_with_the_default_arguments(monkeypatch):
  # pylint: disable=import-outside-toplevel  (TFX loads slowly)
  from tfx.components.statistics_gen.executor import Executor   # a Beam component's executor, as StatisticsGen's
  from tfx.utils import dependency_utils

  def build():
    raise AssertionError("TFX built its ephemeral package")

  monkeypatch.setattr(dependency_utils, "build_ephemeral_package", build)
  Executor(Executor.Context(beam_pipeline_args=component_beam_args(None)))
  with pytest.raises(AssertionError, match="ephemeral package"):          # what the arguments alone would do
    Executor(Executor.Context(beam_pipeline_args=list(BEAM_ARGS)))

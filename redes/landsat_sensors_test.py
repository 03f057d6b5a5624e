import pytest

from redes.landsat_sensors import SENSORS, frame_sensors, outside_training, sensor_models, training_record


def test_frames_map_to_the_sensors_of_their_year_or_satellite():
  assert frame_sensors("1990") == ("tm",)
  assert frame_sensors("2005") == ("tm", "etm")
  assert frame_sensors("2020") == ("etm", "oli")
  assert frame_sensors("scene") == ("oli",)                       # the demo Landsat 8 scene
  assert frame_sensors("2005", "landsat7") == ("etm",) and frame_sensors("2022", "landsat9") == ("oli",)


def test_a_frame_outside_the_trained_sensors_is_named():
  oli_only = training_record("sensors", sensor_models(["oli"]), synthetic=True)
  assert oli_only["sensors"]["oli"]["noise"] == list(SENSORS["oli"].noise) and oli_only["max_shift_lr_pixels"] == 0.5
  assert oli_only["clean_fraction"] == 0.25
  assert outside_training(oli_only, frame_sensors("2020")) is None
  assert outside_training(oli_only, frame_sensors("1990")) == (
      "its sensor (tm) lies outside those the model was trained for (oli, sensors degradation)")
  reference = training_record("reference", (), synthetic=True)
  assert "reference degradation" in outside_training(reference, frame_sensors("2005"))
  assert outside_training(None, ("tm",)) is None                  # the bicubic baseline holds for any input
  real = training_record("sensors", sensor_models(["tm", "etm"]), synthetic=False)
  assert set(real["sensors"]["tm"]) == {"noise", "step"} and "max_shift_lr_pixels" not in real


def test_unknown_sensors_are_refused_in_one_line():
  with pytest.raises(ValueError, match=r"unknown sensor\(s\) \['mss'\]; expected names among tm, etm, oli"):
    sensor_models(["tm", "mss"])

import datetime
import re

import pytest

from pipeline import schedule
from pipeline.schedule import KUBEFLOW, VERTEX, ScheduleError

AFTER = datetime.datetime(2026, 11, 29, 12, tzinfo=datetime.timezone.utc)    # a Sunday


def _times(runs):
  return [run.strftime("%a %Y-%m-%d %H:%M:%S %Z") for run in runs]


def test_mondays_at_three_on_both_services():
  weekly = schedule.parse("0  3 * * 1")
  assert weekly.for_service(KUBEFLOW) == "0 0 3 * * 1" and weekly.for_service(VERTEX) == "TZ=UTC 0 3 * * 1"
  expected = ["Mon 2026-11-30 03:00:00 UTC", "Mon 2026-12-07 03:00:00 UTC", "Mon 2026-12-14 03:00:00 UTC"]
  for service in (KUBEFLOW, VERTEX):
    assert _times(schedule.next_runs(weekly.for_service(service), service, "UTC", 3, AFTER)) == expected
  # What Kubeflow would have made of the five fields as they are: minute 3 of every hour, in January.
  assert _times(schedule.next_runs("0 3 * * 1", KUBEFLOW, "UTC", 2, AFTER)) == \
      ["Fri 2027-01-01 00:03:00 UTC", "Fri 2027-01-01 01:03:00 UTC"]
  assert weekly.describe(VERTEX, 2, AFTER) == ("'TZ=UTC 0 3 * * 1' (0 3 * * 1 in UTC): next runs "
                                               "Mon 2026-11-30 03:00 UTC, Mon 2026-12-07 03:00 UTC")


def test_a_time_zone_follows_daylight_saving_on_vertex():
  madrid = schedule.parse("30 7 * * mon-fri", "Europe/Madrid")
  assert madrid.for_service(VERTEX) == "TZ=Europe/Madrid 30 7 * * mon-fri"
  march = datetime.datetime(2027, 3, 26, 12, tzinfo=datetime.timezone.utc)     # DST starts on Sunday the 28th
  runs = schedule.next_runs(madrid.for_service(VERTEX), VERTEX, "UTC", 2, march)
  assert [run.astimezone(datetime.timezone.utc).strftime("%a %H:%M") for run in runs] == ["Mon 05:30", "Tue 05:30"]
  assert _times(runs) == ["Mon 2027-03-29 07:30:00 CEST", "Tue 2027-03-30 07:30:00 CEST"]


def test_kubeflow_schedules_are_meant_in_the_schedulers_zone():
  schedule.check_kubeflow_zone(schedule.parse("0 3 * * 1", "Europe/Madrid"), "Europe/Madrid")
  with pytest.raises(ScheduleError, match="'Europe/Madrid' differs from the Kubeflow scheduler's zone 'UTC'"):
    schedule.check_kubeflow_zone(schedule.parse("0 3 * * 1", "Europe/Madrid"), "UTC")
  with pytest.raises(ScheduleError, match="argument --scheduler-timezone: 'CEST' is not an IANA time zone"):
    schedule.check_kubeflow_zone(schedule.parse("0 3 * * 1"), "CEST")


@pytest.mark.parametrize("cron, message", [
    ("a b c d e", "'a' in 'a b c d e' is not a cron field"),
    ("@weekly", "'@weekly' has 1 field(s)"),
    ("0 0 3 * * 1", "has 6 field(s)"),
    ("0 3 L * *", "'L' in '0 3 L * *' is not a cron field"),
    ("0 3 * * 1#2", "'1#2' in '0 3 * * 1#2' is not a cron field"),
    ("0 3 * * sun-7", "day of week 'sun-7' in '0 3 * * sun-7' is out of range"),
    ("0 3 * 13 *", "'0 3 * 13 *' is not a valid cron schedule"),
    ("0 3 * * 1,", "'0 3 * * 1,' is not a valid cron schedule"),
])
def test_what_a_service_would_misread_or_refuse_is_refused(cron, message):
  with pytest.raises(ScheduleError, match=re.escape(message)):
    schedule.parse(cron)

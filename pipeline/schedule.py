"""Schedules of kubeflow_runner.py --schedule: one syntax for users, translated for each service.

Users write standard five-field cron (minute hour day-of-month month day-of-week) and an IANA time zone. The
services read cron differently:
- Kubeflow Pipelines' ScheduledWorkflow parses with robfig/cron v1 `cron.Parse`, seconds first (`sec min hour dom
  month [dow]`): a five-field string is read as seconds to months, so "0 3 * * 1" would mean minute 3 of every hour
  in January. It gets six fields, "0 " in front. Its time zone is the scheduler's, set for the whole cluster
  (CRON_SCHEDULE_TIMEZONE of ml-pipeline-scheduledworkflow, UTC in KFP's manifests); there is none per schedule.
- Vertex AI takes standard five-field cron, with the zone as a "TZ=<zone> " prefix.
`next_runs` reads each translated string the way its service does, so what is printed is what will happen.
"""
import dataclasses
import datetime
import re
import zoneinfo

from croniter import croniter

KUBEFLOW, VERTEX = "kubeflow", "vertex"
_NAMES = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
          "sun", "mon", "tue", "wed", "thu", "fri", "sat"}
_FIELD = re.compile(r"^[0-9A-Za-z*,/\-]+$")


class ScheduleError(ValueError):
  """A schedule no service would run as meant; the message names the value and what is expected."""


@dataclasses.dataclass(frozen=True)
class Schedule:
  cron: str              # standard five fields, as the user wrote them (whitespace normalised)
  timezone: str          # IANA zone the cron is read in

  def for_service(self, service: str) -> str:
    """The cron string to send to `service` (KUBEFLOW or VERTEX)."""
    if service == KUBEFLOW:
      return f"0 {self.cron}"
    return f"TZ={self.timezone} {self.cron}"

  def describe(self, service: str, count: int = 3, after: datetime.datetime | None = None) -> str:
    """One line: the service's cron string and when its next `count` runs fall."""
    runs = next_runs(self.for_service(service), service, self.timezone, count, after)
    return (f"'{self.for_service(service)}' ({self.cron} in {self.timezone}): next runs "
            + ", ".join(run.strftime("%a %Y-%m-%d %H:%M %Z") for run in runs))


def _check_zone(name: str, flag: str) -> str:
  try:
    zoneinfo.ZoneInfo(name)
  except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ScheduleError(f"argument {flag}: {name!r} is not an IANA time zone (e.g. UTC, Europe/Madrid)") from None
  return name


def parse(cron: str, timezone: str = "UTC") -> Schedule:
  """Checks a five-field cron, as both services read it, and its zone."""
  fields = cron.split()
  expected = "five cron fields (minute hour day-of-month month day-of-week), e.g. '0 3 * * 1'"
  if len(fields) != 5:
    raise ScheduleError(f"argument --schedule: {cron!r} has {len(fields)} field(s); expected {expected}")
  for field in fields:
    words = set(re.findall(r"[A-Za-z]+", field))
    if not _FIELD.match(field) or {w.lower() for w in words} - _NAMES:
      raise ScheduleError(f"argument --schedule: {field!r} in {cron!r} is not a cron field; expected {expected}, "
                          "with numbers, names (jan, mon), *, ranges, lists and steps")
  if any(int(n) > 6 for n in re.findall(r"\d+", fields[4].split("/")[0])):
    raise ScheduleError(f"argument --schedule: day of week {fields[4]!r} in {cron!r} is out of range; expected "
                        "0-6 (0 is Sunday), as Kubeflow's parser takes")
  normalised = " ".join(fields)
  if not croniter.is_valid(normalised):
    raise ScheduleError(f"argument --schedule: {cron!r} is not a valid cron schedule; expected {expected}")
  return Schedule(normalised, _check_zone(timezone, "--schedule-timezone"))


def check_kubeflow_zone(schedule: Schedule, scheduler_timezone: str) -> None:
  """Kubeflow reads every schedule in its scheduler's zone: a schedule meant in another zone cannot be sent."""
  _check_zone(scheduler_timezone, "--scheduler-timezone")
  if schedule.timezone != scheduler_timezone:
    raise ScheduleError(
        f"argument --schedule-timezone: {schedule.timezone!r} differs from the Kubeflow scheduler's zone "
        f"{scheduler_timezone!r} (CRON_SCHEDULE_TIMEZONE, --scheduler-timezone); Kubeflow Pipelines has no zone per "
        "schedule, so write the cron in the scheduler's zone")


def next_runs(service_cron: str, service: str, timezone: str, count: int = 3,
              after: datetime.datetime | None = None) -> list[datetime.datetime]:
  """When a cron string sent to `service` fires next, read as that service reads it: robfig/cron v1 for
  Kubeflow (seconds first; with five fields, the day of week is left out), standard cron with a TZ= prefix for
  Vertex AI. timezone: the Kubeflow scheduler's zone (Vertex takes its own from the prefix)."""
  if service == KUBEFLOW:
    fields = service_cron.split()
    expression, zone, seconds_first = " ".join(fields + ["*"] * (6 - len(fields))), timezone, True
  else:
    prefix, _, expression = service_cron.partition(" ")
    zone, seconds_first = prefix.removeprefix("TZ="), False
  start = (after or datetime.datetime.now(datetime.timezone.utc)).astimezone(zoneinfo.ZoneInfo(zone))
  runs = croniter(expression, start, second_at_beginning=seconds_first)
  return [runs.get_next(datetime.datetime) for _ in range(count)]

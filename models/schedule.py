"""Schedules: the JSON spec stored with a reminder and the APScheduler trigger it stands for.

A schedule spec is a small JSON-serialisable dict, so that the database row (not the
in-memory scheduler) is the source of truth. Three kinds exist, matching APScheduler's
triggers:

* ``{"type": "date", "run_at": "2026-11-24T12:10:00+00:00"}``: once.
* ``{"type": "interval", "seconds": 7200, "start": "2026-11-24T12:00:00+00:00"}``: every N seconds;
  when N is whole days, at the start's wall-clock time in the reminder's zone, across DST changes.
* ``{"type": "cron", "minute": "30", "hour": "8", "day": "*", "month": "*",
  "day_of_week": "mon-fri"}``: calendar rules, evaluated in the reminder's time zone so that
  daylight-saving changes keep the wall-clock time. APScheduler's day field also says
  "1st mon" (the first Monday of the month), "last fri" and "last" (the month's last day), and
  a month with a day is a yearly date ("every 5 March").
* ``{"type": "multi", "parts": [<interval or cron spec>, ...]}``: the union of its parts'
  occurrences, for "every day at 07:30 and 19:00" (one cron cannot pair each hour with its own
  minute).

Two optional fields apply to every recurring kind:

* ``"tz"``: the IANA zone the wall-clock times are meant in, when the user named one in the
  message ("at 9am London time"); it overrides the reminder's zone, so the reminder keeps
  firing at London's 09:00 whatever zone the user later sets.
* ``"end"``: an aware ISO instant; no occurrence after it ("until 31 March", "for 3 weeks",
  "10 times", the last of which is turned into its instant when the reminder is parsed).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

CRON_FIELDS = ("month", "day", "day_of_week", "hour", "minute")
MIN_INTERVAL = timedelta(minutes=1)
DAY_SECONDS = 86400


class ScheduleError(ValueError):
    """A schedule spec that cannot be turned into a trigger."""


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ScheduleError(f"time {value!r} has no UTC offset")
    return parsed


def spec_zone(spec: dict[str, Any], tz: str) -> str:
    """The zone a spec's wall-clock times are read in: its own ``tz`` if it names one, else ``tz``."""
    own = spec.get("tz")
    return own if isinstance(own, str) and own else tz


def _end(spec: dict[str, Any]) -> datetime | None:
    return _aware(spec["end"]).astimezone(UTC) if spec.get("end") else None


def build_trigger(spec: dict[str, Any], tz: str) -> BaseTrigger:
    """Build the APScheduler trigger a schedule spec describes.

    Args:
        spec: the stored schedule spec (see the module docstring).
        tz: the IANA time zone the schedule's wall-clock times are meant in.

    Returns:
        A trigger whose ``get_next_fire_time`` gives the occurrences.

    Raises:
        ScheduleError: the spec is malformed.
    """
    kind = spec.get("type")
    try:
        zone = ZoneInfo(spec_zone(spec, tz))
        end = _end(spec)
        if kind == "multi":
            parts = spec["parts"]
            if not isinstance(parts, list) or not parts:
                raise ScheduleError("a multi schedule needs parts")
            if any(not isinstance(part, dict) or part.get("type") not in ("interval", "cron") for part in parts):
                raise ScheduleError("multi schedule parts must be interval or cron")
            return OrTrigger([build_trigger({**part, "tz": spec_zone(spec, tz)}, tz) for part in parts])
        if kind == "date":
            return DateTrigger(run_date=_aware(spec["run_at"]), timezone=zone)
        if kind == "interval":
            seconds = int(spec["seconds"])
            if timedelta(seconds=seconds) < MIN_INTERVAL:
                raise ScheduleError("the shortest interval is 1 minute")
            return IntervalTrigger(seconds=seconds, start_date=_aware(spec["start"]), end_date=end, timezone=zone)
        if kind == "cron":
            fields = {name: str(spec.get(name, "*")) for name in CRON_FIELDS}
            return CronTrigger(second="0", end_date=end, timezone=zone, **fields)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ScheduleError):
            raise
        raise ScheduleError(f"bad {kind} schedule: {exc}") from exc
    raise ScheduleError(f"unknown schedule type {kind!r}")


def is_recurring(spec: dict[str, Any]) -> bool:
    """Tell whether a schedule fires more than once."""
    return spec.get("type") in ("interval", "cron", "multi")


def next_fire_time(
    spec: dict[str, Any], tz: str, *, after: datetime, previous: datetime | None = None
) -> datetime | None:
    """Return the first occurrence strictly after ``after``, in UTC, or None when there is none.

    Occurrences missed while the bot was down are skipped, not replayed: interval schedules
    stay aligned to their start and cron schedules resume at the next calendar match.

    Args:
        spec: the stored schedule spec.
        tz: the reminder's IANA time zone.
        after: occurrences at or before this instant are skipped.
        previous: the occurrence that just fired, if any. When the clocks go back, a
            wall-clock time happens twice; the repeat of ``previous`` is skipped so a daily
            02:30 reminder fires once that night, not twice.
    """
    trigger = build_trigger(spec, tz)
    tz = spec_zone(spec, tz)
    if spec["type"] == "multi":
        fires = [
            next_fire_time({**part, "tz": tz}, tz, after=after, previous=previous) for part in spec["parts"]
        ]
        fire = min((f for f in fires if f is not None), default=None)
    else:
        fire = _next_single(spec, trigger, tz, after=after, previous=previous)
    end = _end(spec)
    return None if fire is None or (end is not None and fire > end) else fire


def _next_single(
    spec: dict[str, Any], trigger: BaseTrigger, tz: str, *, after: datetime, previous: datetime | None
) -> datetime | None:
    if spec["type"] == "date":
        run_at = _aware(spec["run_at"]).astimezone(UTC)
        return run_at if run_at > after else None
    if spec["type"] == "interval" and int(spec["seconds"]) % DAY_SECONDS == 0:
        return _next_wall_step(_aware(spec["start"]), int(spec["seconds"]) // DAY_SECONDS, ZoneInfo(tz), after)
    # APScheduler returns the first fire time >= now; probe 1 µs later to make it strict.
    fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    if fire is not None and previous is not None and spec["type"] == "cron":
        zone = ZoneInfo(tz)
        if _wall_clock(fire, zone) == _wall_clock(previous, zone):
            # Step in UTC: wall-clock arithmetic inside the repeated hour would step back.
            fire = trigger.get_next_fire_time(None, fire.astimezone(UTC) + timedelta(microseconds=1))
    return fire.astimezone(UTC) if fire is not None else None


def _wall_clock(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None, fold=0)


def _next_wall_step(start: datetime, days: int, zone: ZoneInfo, after: datetime) -> datetime:
    """The first of ``start``, then every ``days`` days at its wall-clock time, after ``after``.

    "Every 2 days at 09:00" stays at 09:00 across a DST change, as a cron schedule does.
    APScheduler's IntervalTrigger steps in elapsed time, which would move it to 10:00 or 08:00.
    """
    if start.astimezone(UTC) > after:
        return start.astimezone(UTC)
    wall = _wall_clock(start, zone)
    # One step early: an offset change can put an instant and its wall clock on either side of midnight.
    n = max(1, (after.astimezone(zone).date() - wall.date()).days // days - 1)
    while True:
        fire = (wall + timedelta(days=n * days)).replace(tzinfo=zone).astimezone(UTC)
        if fire > after:
            return fire
        n += 1


def first_fire_time(spec: dict[str, Any], tz: str, *, now: datetime) -> datetime | None:
    """Return the first occurrence of a new schedule (for a date spec: its time, even if past)."""
    if spec["type"] == "date":
        build_trigger(spec, tz)
        return _aware(spec["run_at"]).astimezone(UTC)
    return next_fire_time(spec, tz, after=now)


def zone_label(tz: str) -> str:
    """How a zone is shown to the user: an IANA name as is, a fixed offset as "UTC−05:00"."""
    match = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", tz)
    if match:
        # Etc/GMT+5 is five hours *behind* UTC; show it the way people read offsets.
        sign = "−" if match[1] == "+" else "+"
        return f"UTC{sign}{int(match[2]):02d}:00"
    if tz in ("Etc/UTC", "Etc/GMT", "GMT", "Etc/GMT0", "Etc/Zulu", "Zulu"):
        return "UTC"
    return tz


def format_local(moment: datetime, tz: str) -> str:
    """Show an instant in the user's zone, e.g. "Tue 24 Nov 2026 14:05 CET". A fixed-offset zone
    (known only from the channel's UTC offset) ends with its offset, "UTC−05:00", never with
    "-05" or "Etc/GMT+5", whose sign reads backwards."""
    local = moment.astimezone(ZoneInfo(tz))
    name = zone_label(tz) if tz.startswith("Etc/") else local.tzname()
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {name}"

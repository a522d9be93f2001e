"""``desk.calendar``: the non-working days that destruction deadlines (in business days) skip."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Holiday

from .base import Checks, Kind, Service


class CalendarService(Service):

    def holidays(self) -> list[tuple[date, str]]:
        with self._read() as s:
            return [tuple(row) for row in s.execute(select(Holiday.day, Holiday.name).order_by(Holiday.day))]

    def add_holiday(self, day: date, name: str) -> None:
        checks = Checks()
        name = checks.text("name", name, max_len=100)
        checks.done()
        with self._write("edit holidays", [Kind.CALENDAR]) as uow:
            existing = uow.session.get(Holiday, day)
            if existing is not None:
                existing.name = name
                uow.audit("rename_holiday", "holidays", None, {"day": day.isoformat()}, {"day": day.isoformat(), "name": name})
                return
            uow.session.add(Holiday(day=day, name=name))
            uow.audit("add_holiday", "holidays", None, None, {"day": day.isoformat(), "name": name})

    def remove_holiday(self, day: date) -> None:
        with self._write("edit holidays", [Kind.CALENDAR]) as uow:
            holiday = uow.session.get(Holiday, day)
            if holiday is not None:
                uow.deleted(holiday)

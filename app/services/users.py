"""``desk.users``: desk accounts and roles (admins only). Key slots are the store's business: adding a user
who should open the store also needs ``store.add_key_slot``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.models import Role, User

from .audit_chain import record_of
from .base import ADMINS, Checks, Kind, Service, UnitOfWork, view_of
from .errors import NotFound, RuleViolation, ValidationFailed

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime


def check_username(username: str) -> str:
    """Normalise and check a username (2–64 of a-z, 0-9, '.', '_', '-'); raises ValidationFailed."""
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise ValidationFailed({"username": "use 2–64 lower-case letters, digits, '.', '_' or '-'"})
    return name


class UserService(Service):

    def list(self) -> list[UserInfo]:
        with self._read() as s:
            return [view_of(UserInfo, u) for u in s.scalars(select(User).order_by(User.username))]

    def get(self, username: str) -> UserInfo:
        with self._read() as s:
            user = s.scalar(select(User).where(User.username == username.strip().lower()))
            if user is None:
                raise NotFound(f"There is no desk user {username!r}.")
            return view_of(UserInfo, user)

    def add(self, username: str, display_name: str, role: Role) -> int:
        username = check_username(username)
        checks = Checks()
        display_name = checks.text("display_name", display_name)
        checks.done()
        with self._write("manage users", [Kind.USERS], roles=ADMINS) as uow:
            if uow.session.scalar(select(User.id).where(User.username == username)):
                raise ValidationFailed({"username": f"{username} already exists"})
            user = User(username=username, display_name=display_name, role=Role(role), active=True)
            uow.created(user)
            return user.id

    def set_role(self, username: str, role: Role) -> None:
        with self._write("manage users", [Kind.USERS], roles=ADMINS) as uow:
            user = self._user(uow, username)
            if user.role is Role.ADMIN and role is not Role.ADMIN:
                self._keep_an_admin(uow, user)
            before = record_of(user)
            user.role = Role(role)
            uow.updated(user, before, action="set_role")

    def set_active(self, username: str, active: bool) -> None:
        """Deactivate (access review) or reactivate an account; the last active admin cannot be deactivated."""
        with self._write("manage users", [Kind.USERS], roles=ADMINS) as uow:
            user = self._user(uow, username)
            if not active and user.username == self.actor.username:
                raise RuleViolation("You cannot deactivate your own account.")
            if not active and user.role is Role.ADMIN:
                self._keep_an_admin(uow, user)
            before = record_of(user)
            user.active = active
            uow.updated(user, before, action="activate" if active else "deactivate")

    @staticmethod
    def _user(uow: UnitOfWork, username: str) -> User:
        user = uow.session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFound(f"There is no desk user {username!r}.")
        return user

    @staticmethod
    def _keep_an_admin(uow: UnitOfWork, user: User) -> None:
        admins = uow.session.scalar(select(func.count(User.id)).where(
            User.role == Role.ADMIN, User.active.is_(True), User.id != user.id))
        if not admins:
            raise RuleViolation("The store must keep at least one active administrator.")

"""The declarative base of every table, and the clock the defaults read."""

from __future__ import annotations

import time

from sqlalchemy.orm import DeclarativeBase


def now() -> int:
    return int(time.time())


class Base(DeclarativeBase):
    pass

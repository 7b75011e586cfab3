"""The sample notes API's data: a user's notes, newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ..models import Note
from ..policy import NOTES_PAGE_SIZE

if TYPE_CHECKING:
    from . import Store


class Notes:
    def __init__(self, store: Store) -> None:
        self.store = store

    def newest(self, owner_sub: str) -> list[Note]:
        """The owner's newest notes: never an unbounded list."""
        return list(self.store.session().scalars(
            select(Note).where(Note.owner_sub == owner_sub).order_by(Note.id.desc())
            .limit(NOTES_PAGE_SIZE)
        ))

    def newest_of_everyone(self) -> list[Note]:
        """Every user's newest notes (the admin view): never an unbounded list either."""
        return list(self.store.session().scalars(
            select(Note).order_by(Note.id.desc()).limit(NOTES_PAGE_SIZE)))

    def add(self, owner_sub: str, text: str) -> Note:
        session = self.store.begin_write()
        note = Note(owner_sub=owner_sub, text=text)
        session.add(note)
        session.commit()
        return note

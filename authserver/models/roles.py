"""Roles (per API) and groups of users, and who holds which role: what a user or a machine
client may do in an API, carried in its access tokens (RFC 9068 §2.2.3.1)."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, now


class Role(Base):
    """A role of one API. The API is named by its audience rather than a foreign key: the
    built-in sample API is not stored (store/apis.py); deleting a stored API deletes its roles
    in the same transaction (store/apis.delete_api). Grants go with the role (ON DELETE
    CASCADE)."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("audience", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    audience: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class Group(Base):
    """A named set of users; roles granted to it are held by every member."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger, default=now)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    # Indexed: the token path looks a user's groups up by user.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class GroupRole(Base):
    __tablename__ = "group_roles"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class ClientRole(Base):
    """A role held by a client itself: its client_credentials tokens carry it."""

    __tablename__ = "client_roles"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"),
                                           primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)

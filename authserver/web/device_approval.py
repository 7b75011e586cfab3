"""A device's request waiting for its user (RFC 8628 §3.3), kept as an interaction's request:
the user code found it at /device; the interaction's login and consent steps (interaction.py)
then decide it. Always asked for, never approved by a remembered consent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Response
from flask_babel import gettext

from .. import context, events
from ..models import Client, User
from .pages import page
from .session import auth_time, login_session

KIND = "device"


@dataclass
class DeviceApproval:
    client: Client
    device_id: int
    consent_scope: str
    # What the steps ask of every pending request (oauth/authorization_request.ValidatedRequest).
    parameters: dict[str, Any] = field(default_factory=dict)
    redirect_uri: str | None = None  # the answer is a page of ours, not a redirect
    subject: str | None = None
    prompts: frozenset[str] = frozenset({"consent"})  # always asked

    def stored(self) -> dict[str, Any]:
        return {"kind": KIND, "device_id": self.device_id, "consent_scope": self.consent_scope}

    @classmethod
    def restored(cls, client: Client, stored: dict[str, Any]) -> DeviceApproval:
        return cls(client, stored["device_id"], stored["consent_scope"])

    def finish(self, user: User, allowed: bool) -> Response:
        """The user's answer, recorded once; the device's next poll gets the tokens or
        access_denied."""
        store = context.store()
        device = store.devices.get(self.device_id)
        signed_in = login_session()
        if device is None or not store.devices.decide(
                device, user, auth_time() or store.now(), allowed,
                signed_in.amr if signed_in is not None else None):
            return page("device.html", 400, user_code="",
                        error=gettext("That code was answered already, or it has expired."))
        store.commit()
        events.record("device.approved" if allowed else "device.denied",
                      client_id=self.client.client_id, sub=user.sub, scope=self.consent_scope)
        return page("device_done.html", allowed=allowed, client_name=self.client.name)

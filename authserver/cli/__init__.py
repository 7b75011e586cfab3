"""The `authserver` command: serve, status, client, api, role, group, user, idp, keys, db,
registration-token.

Exit codes scripts can rely on (errors.py): 0 success, 1 the operation failed, 2 bad input
(usage, a value, an unknown or duplicate name, the configuration); the message on stderr.
"""

from __future__ import annotations

import click

from .apis import api
from .clients import client
from .db import db
from .errors import CommandGroup
from .groups import group
from .idps import idp
from .keys import keys
from .registration import registration_token
from .roles import role
from .serve import serve
from .status import status
from .user_access import consents_group, sessions
from .user_mail import user  # with its verify-email command
from .user_mfa import mfa_group


@click.group(cls=CommandGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="authserver")
def main() -> None:
    """authserver: an OAuth 2 / OpenID Connect authorization server."""


main.add_command(serve)
main.add_command(status)
main.add_command(client)
main.add_command(api)
main.add_command(role)
main.add_command(group)
main.add_command(registration_token)
user.add_command(sessions)
user.add_command(consents_group)
user.add_command(mfa_group)
main.add_command(user)
main.add_command(idp)
main.add_command(keys)
main.add_command(db)

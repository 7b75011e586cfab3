"""Kept for services that import `authserver.resource`: the protector now lives in
`authserver.resource_server`."""

from .resource_server import *  # noqa: F403
from .resource_server import __all__  # noqa: F401

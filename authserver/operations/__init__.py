"""The operator's operations: what `authserver client ...` (the CLI) and `/admin/v1` (the
administration API) both do, written once.

Each function takes the database session (and the settings where a rule needs them) and plain
arguments, applies every rule, and raises a typed error (errors.py) that each front end words
its own way: the CLI as an exit code, the API as an RFC 9457 problem document. Neither front end
writes a rule of its own; the caller commits (or rolls back) the session.
"""

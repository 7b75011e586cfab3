"""Thin Flask blueprints, one module per endpoint group."""

"""The web layer: thin blueprints, one module per endpoint group, and the login session."""

"""Operations: audit log, metrics, throttling, security headers, the WSGI server, OpenAPI."""

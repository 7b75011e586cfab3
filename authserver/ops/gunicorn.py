"""Running the app under gunicorn (the production WSGI server), started from `authserver serve`."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from ..config import Settings


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with options from the CLI; each worker builds its own app (no state shared by
    fork: database connections and key caches are per process)."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key, value)

    def load(self) -> Any:
        from .. import create_app

        return create_app(self.settings)


def _child_exit(_server: Any, worker: Any) -> None:
    # prometheus-client multiprocess mode: drop a dead worker's live gauges.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run(settings: Settings, *, host: str, port: int, workers: int, threads: int) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "timeout": 30,
        "graceful_timeout": 10,
        "proc_name": "authserver",
        "child_exit": _child_exit,
    }
    GunicornServer(settings, options).run()

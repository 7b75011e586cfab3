"""`authserver COMMAND` as a process of its own, forked from one that imported the CLI once:
for a test that runs many commands as a person types them (tests/test_readme.py), where each
new interpreter spent 1.3-1.9 s importing Flask, SQLAlchemy and the rest. Every command is
still its own process, with the caller's arguments, environment, working directory, standard
input, output and error (passed as file descriptors) and exit status; only the imports are
done before it is asked for.

    python tests/forked_cli.py serve SOCKET      # imports the CLI, then forks a child a command
    python -I -S tests/forked_cli.py SOCKET ARGS # a command: stdlib only, so it starts at once
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = str(Path(__file__).resolve())


@contextmanager
def forked_cli(workdir: Path, env: dict[str, str]
               ) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """A forking process started in `workdir` with `env` (it imports while the caller goes
    on: start it before a server); yields `run(*args, stdin=None)`, `authserver ARGS` as a
    process of its own, answered like subprocess.run's (text, captured)."""
    path = str(workdir / "cli.sock")
    forks = subprocess.Popen([sys.executable, HERE, "serve", path], cwd=workdir, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-I", "-S", HERE, path, *args], input=stdin,
                              cwd=workdir, env=env, capture_output=True, text=True, timeout=120)

    try:
        yield run
    finally:
        forks.terminate()
        forks.wait(timeout=10)


def serve(path: str) -> None:
    """Import the CLI, then fork a child for each command asked for at the socket `path`."""
    from authserver.cli import main

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(16)
    while True:
        connection, _ = listener.accept()
        if os.fork() == 0:
            listener.close()
            _run(connection, main)
        connection.close()


def _run(connection: socket.socket, main: object) -> None:
    """In the child: become the caller's command, run it, send back its exit status."""
    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    request = json.loads(message)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdin, sys.stdout, sys.stderr = (open(0, closefd=False), open(1, "w", closefd=False),
                                         open(2, "w", closefd=False))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    code = 0
    try:
        main(request["args"], prog_name="authserver")  # type: ignore[operator]
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    connection.sendall(struct.pack("!i", code))
    os._exit(0)


def call(path: str, args: list[str]) -> int:
    """`authserver ARGS`, forked by the process at `path`, with this one's input, output,
    environment and directory; its exit status."""
    with socket.socket(socket.AF_UNIX) as connection:
        for _ in range(600):  # the first command may come while the CLI is still importing
            try:
                connection.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.1)
        else:
            connection.connect(path)
        message = json.dumps({"args": args, "env": dict(os.environ), "cwd": os.getcwd()})
        socket.send_fds(connection, [message.encode()], [0, 1, 2])
        answer = b""
        while len(answer) < 4:
            chunk = connection.recv(4 - len(answer))
            if not chunk:
                return 1  # the child died without an answer
            answer += chunk
    return int(struct.unpack("!i", answer)[0])


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        del sys.path[0]  # this file's directory: tests/ must not shadow what authserver imports
        serve(sys.argv[2])
    else:
        sys.exit(call(sys.argv[1], sys.argv[2:]))

"""The README's shell blocks run as written, in order, on a fresh directory (issue #27): the
sections a new operator follows first, against the `authserver serve` the Quickstart starts.

The only changes made to the text: the ports (5000, 5200) become free ones (`serve` gets
`--port`), `pip install`
is skipped (the test runs installed), and after a command sent to the background the script
waits until its port answers, as a person does before typing the next line.

Each `authserver` command other than `serve` is forked from a process that imported the CLI
once (tests/forked_cli.py): still a process of its own with the line's arguments, input,
output, environment and exit status, without its 1.3-1.9 s of imports (14 commands)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from .forked_cli import HERE, forked_cli
from .support import free_port, server_env

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("Quickstart", "Authorization code flow", "Devices without a browser",
            "Clients that register themselves", "Protecting your own API", "Roles and groups")
PYTHON = ("from ", "import ", "@", "def ", "return ")
PREAMBLE = """set -euo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
wait_for() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return; sleep 0.1; done; exit 9; }
authserver() {
    if [ "$1" = serve ]; then exec authserver "$@"; fi  # the real one, as the job itself
    python -I -S "$FORKED_CLI" "$FORKED_CLI_SOCKET" "$@"
}
"""


def section_blocks(readme: str, title: str) -> list[str]:
    """The indented (four-space) code blocks of one `## title` section, in order."""
    body = readme.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"(?:\n\n)((?:    .*\n|\n)+)", body)
    return ["\n".join(line[4:] for line in block.splitlines()).strip() for block in blocks]


def script(readme: str, ports: dict[str, int]) -> str:
    lines = [PREAMBLE]
    for title in SECTIONS:
        for block in section_blocks(readme, title):
            if any(line.startswith(PYTHON) for line in block.splitlines()):
                continue  # a Python example, not shell
            for old, new in ports.items():
                block = re.sub(rf"(?<![0-9]){old}(?![0-9])", str(new), block)
            for line in block.splitlines():
                if line.startswith("python -m pip install"):
                    continue
                lines.append(line.replace("authserver serve", f"authserver serve --port {ports['5000']}"))
                if re.search(r"&\s*(#.*)?$", line):
                    answers = ports["5000"] if " serve" in line else ports["5200"]
                    lines.append(f"wait_for http://127.0.0.1:{answers}/")
            lines.append("echo")  # curl prints no newline after an answer
    return "\n".join(lines) + "\n"


def test_the_readme_shell_blocks_run_as_written(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    ports = {"5000": free_port(), "5200": free_port()}
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    (tmp_path / "readme.sh").write_text(script(readme, ports))
    env = server_env("sqlite:///instance/authserver.db", tmp_path / "keys",
                     issuer=f"http://127.0.0.1:{ports['5000']}",
                     AUTHSERVER_REGISTRATION="token")
    env.pop("AUTHSERVER_DATABASE_URL"), env.pop("AUTHSERVER_KEYS_DIR")  # the defaults: a fresh dir
    with forked_cli(tmp_path, env):
        result = subprocess.run(["bash", "readme.sh"], cwd=tmp_path, env={
            **env, "FORKED_CLI": HERE, "FORKED_CLI_SOCKET": str(tmp_path / "cli.sock")},
            capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "readme.out").write_text(result.stdout)
    answers, decoder, text = [], json.JSONDecoder(), result.stdout
    for start in (m.start() for m in re.finditer(r"^\{", text, re.M)):
        answers.append(decoder.raw_decode(text, start)[0])
    tokens = [a for a in answers if "access_token" in a]
    assert len(tokens) == 2, text  # the two Quickstart grants (the orders job keeps its own)
    assert any(a.get("client_name") == "My app" and "registration_access_token" in a
               for a in answers), text
    assert any("orders" in a for a in answers), text  # the orders service answered
    assert "groups: editors" in text or "editors" in text
    assert (tmp_path / "instance" / "authserver.db").exists() and (tmp_path / "keys").is_dir()

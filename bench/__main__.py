"""Every benchmark in one run: `python -m bench` (about ten minutes; needs wrk, node, PostgreSQL).

Prints one JSON document; bench/RESULTS.md holds the latest figures and how they were made.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def main(argv: list[str] | None = None) -> None:
    # --help answers and exits before anything is measured.
    argparse.ArgumentParser(prog="python -m bench", description=__doc__).parse_args(argv)
    from . import inprocess  # imports the whole server: only once a run is asked for

    figures = {"in_process": {k: round(v, 3) for k, v in inprocess.measure().items()}}
    for name, module, extra in (("http", "bench.http", ["--peer"]),
                                ("refresh_scale", "bench.refresh_scale", []),
                                ("api_scale", "bench.api_scale", []),
                                ("dpop_cost", "bench.dpop_cost", []),
                                ("dpop_http", "bench.dpop_http", []),
                                ("roles_cost", "bench.roles_cost", []),
                                ("signing_algs", "bench.signing_algs", [])):
        output = subprocess.run([sys.executable, "-m", module, *extra], check=True,
                                capture_output=True, text=True).stdout
        figures[name] = json.loads(output)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()

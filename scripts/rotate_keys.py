#!/usr/bin/env python3
"""Rotate the signing keys: `python scripts/rotate_keys.py [--dry-run] [--force] [--json]`.

The same command as `authserver keys rotate`; the logic lives in authserver.keystore.
"""

import sys
from pathlib import Path

try:
    from authserver.cli.keys import rotate
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from authserver.cli.keys import rotate

if __name__ == "__main__":
    rotate(prog_name="rotate_keys.py")

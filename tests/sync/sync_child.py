"""A desktop process for the kill -9 tests: puts the device credential given in the
environment into the session's keyring file, then runs ``township-desk sync``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import keyring  # noqa: E402

keyring.set_password(
    "township-desk", f"device:{os.environ['SYNC_DEVICE_ID']}", os.environ["SYNC_CREDENTIAL"]
)

from desktop.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--data-dir", sys.argv[1], "sync"]))

"""A desktop process for the kill -9 tests: installs the in-memory keyring with the
device credential given in the environment, then runs ``township-desk sync``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))

import sync_memkeyring  # noqa: E402

sync_memkeyring.install({f"device:{os.environ['SYNC_DEVICE_ID']}": os.environ["SYNC_CREDENTIAL"]})

from desktop.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--data-dir", sys.argv[1], "sync"]))

"""Entry point of the frozen one-folder bundle (PyInstaller runs this file as ``__main__``).
First the starter: a newer version the county offered, verified and staged, runs instead of
this one (after its self-test passes the first time; rolled back when it fails)."""

import sys

from desktop.starter import frozen_start

if __name__ == "__main__":
    code = frozen_start(sys.argv)
    if code is None:
        from desktop.cli import main  # deferred: not loaded when a newer version runs instead

        code = main()
    sys.exit(code)

"""The domain core: plain functions and dataclasses. Imports neither Qt nor the store,
and does no file or network I/O, so the GUI, CLI, county server and tests share it."""

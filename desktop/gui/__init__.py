"""The PySide6 GUI. Widgets own presentation only; they call services through
``ctx.tasks`` so the GUI thread never waits on disk or network."""

"""Typed rows: the records the store returns and the services, pages and sync protocol pass
around, each declared once as a frozen dataclass (one module per area)."""

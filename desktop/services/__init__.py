"""Services: the one way in for the GUI, the CLI and the sync worker. Each public function
validates its input, runs one write transaction on the store (change + audit + outbox)
and returns plain data. They never import Qt."""

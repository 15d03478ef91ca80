"""One router per resource: health, devices (registration, tokens), sync, admin."""

"""Run the county app under uvicorn (a separate process, so tests can kill -9 and restart
it). Environment: TOWNSHIP_COUNTY_DATABASE_URL, TOWNSHIP_COUNTY_SIGNING_KEY; argv: port."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import uvicorn  # noqa: E402

from county.app import create_app  # noqa: E402
from county.settings import Settings  # noqa: E402

if __name__ == "__main__":
    settings = Settings(
        database_url=os.environ["TOWNSHIP_COUNTY_DATABASE_URL"],
        signing_key=os.environ["TOWNSHIP_COUNTY_SIGNING_KEY"],
        pool_min=1,
        pool_max=4,
        device_requests=int(os.environ.get("SYNC_DEVICE_REQUESTS", "600")),
        device_window=int(os.environ.get("SYNC_DEVICE_WINDOW", "60")),
        tls_cert_file=os.environ.get("TOWNSHIP_COUNTY_TLS_CERT") or None,
        tls_key_file=os.environ.get("TOWNSHIP_COUNTY_TLS_KEY") or None,
        updates_dir=os.environ.get("TOWNSHIP_COUNTY_UPDATES_DIR") or None,
    ).validate()
    tls = {}
    if settings.tls_cert_file:
        tls = {"ssl_certfile": settings.tls_cert_file, "ssl_keyfile": settings.tls_key_file}
    uvicorn.run(
        create_app(settings),
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="warning",
        access_log=False,
        **tls,
    )

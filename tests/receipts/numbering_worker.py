"""Child process for the numbering crash test: takes receipt numbers one payment-like
transaction at a time and appends each committed number to a log file.

usage: numbering_worker.py DATA_DIR LOG TARGET [EXIT_AT]
Stops when the counter reaches TARGET. With EXIT_AT=k it dies (os._exit) right after the
k-th number was taken, inside the open transaction: the high-water mark is on disk, the
database change is not (a crash between the two)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from desktop.store import open_store  # noqa: E402
from desktop.store.journal import new_id  # noqa: E402
from desktop.store.numbering import parse_receipt_no, take_receipt_no  # noqa: E402


def main() -> None:
    data_dir, log, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
    exit_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    store = open_store(data_dir)
    n = 0
    with open(log, "a", buffering=1, encoding="utf-8") as out:
        out.write("started\n")
        while True:
            with store.write() as db:
                no = take_receipt_no(store, operator_id=None, entity="payment", entity_id=new_id())
                n += 1
                if exit_at and n == exit_at:
                    os._exit(3)
                db.conn.execute(
                    "INSERT INTO settings(key, value) VALUES ('test.last_receipt', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (no,),
                )
            out.write(no + "\n")
            if parse_receipt_no(no).seq >= target:
                break
    store.close()


if __name__ == "__main__":
    main()

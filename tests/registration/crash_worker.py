"""Child process for the crash-safety test: registers households in a loop and prints
``OK <household_id> <person_id>...`` after each commit (flushed); every third household
one member is edited and ``UP <person_id> <version>`` printed after that commit; every
fourth household of two or more splits its second member off (分户, a household event) and
``SPLIT <person_id> <new_household_id>`` is printed after that commit. Killed with SIGKILL
by the test at random moments. Usage: crash_worker.py DATA_DIR SEED"""

from __future__ import annotations

import random
import sys

from stdnum.cn import ric

from desktop.services import household_events
from desktop.services import registration as reg
from desktop.services.context import Actor
from desktop.store import open_store


def make_id(region: str, birth: str, seq: int, sex: str) -> str:
    body = f"{region}{birth.replace('-', '')}{seq % 100 * 10 + (1 if sex == 'male' else 0):03d}"
    return body + ric.calc_check_digit(body + "0")


def main() -> None:
    data_dir, seed = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(seed)
    store = open_store(data_dir)
    op = store.query_one("SELECT * FROM operator WHERE username = 'clerk1'")
    sp = store.query_one("SELECT id FROM service_point")
    actor = Actor(op["id"], op["username"], op["display_name"], op["role"], sp["id"])
    village = store.query_one("SELECT id FROM village LIMIT 1")["id"]
    print("READY", flush=True)
    n = 0
    while True:
        n += 1
        members = []
        for i in range(rnd.randint(1, 3)):
            sex = rnd.choice(["male", "female"])
            birth = f"{rnd.randint(1940, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            members.append(
                {
                    "name": rnd.choice(["张", "王", "李", "𠮷"]) + rnd.choice(["伟", "芳", "强"]),
                    "relation": "head" if i == 0 else "son",
                    "cert_no": make_id("140121", birth, rnd.randint(0, 99), sex),
                    "address": f"进程{seed}第{n}户",
                }
            )
        done = reg.create_household(
            store,
            actor,
            {"village_id": village, "address": f"{seed}-{n}"},
            members,
            allow_duplicate=True,
        )
        sys.stdout.write("OK " + " ".join([done.household_id, *done.person_ids]) + "\n")
        sys.stdout.flush()
        if n % 3 == 0:  # and an edit now and then: person.update with before/after
            pid = rnd.choice(done.person_ids)
            row = reg.update_person(store, actor, pid, {"phone": f"139{seed:04d}{n:04d}"})
            sys.stdout.write(f"UP {pid} {row['version']}\n")
            sys.stdout.flush()
        if n % 4 == 0 and len(done.person_ids) >= 2:  # a household event: one transaction
            mover = done.person_ids[1]
            out = household_events.apply(
                store,
                actor,
                {
                    "kind": "split",
                    "person_ids": [mover],
                    "head_id": mover,
                    "address": f"分户{seed}-{n}",
                    "village_id": village,
                },
            )
            sys.stdout.write(f"SPLIT {mover} {out['household_id']}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

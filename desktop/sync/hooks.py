"""What the services do with what a sync brings. The sync worker imports no service: the
services' sync module (:mod:`desktop.services.sync`) hands it these callables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from desktop.store import Store

# (store, key_id, key, operator_id or None): the county's key for this point's receipt codes
InstallKey = Callable[[Store, str, str, str | None], None]
# (store, [{payment_id, confirmed_at, ref, version}]): tax-bureau confirmations of payments
ApplyConfirmations = Callable[[Store, list[dict]], None]
# (store, person_id, year, figures, as_of): county year-to-date figures for the estimator;
# raises core.errors.ValidationError (or KeyError/TypeError/ValueError) for bad figures
SetYtd = Callable[[Store, str, int, dict, str | None], None]
# (store, data_dir): the county disabled this PC and everything was pushed: erase the keys
# and the copies (the caller removes the store file once it is closed)
Wipe = Callable[[Store, Path], None]


@dataclass(frozen=True)
class SyncHooks:
    install_county_key: InstallKey | None = None
    apply_confirmations: ApplyConfirmations | None = None
    set_county_ytd: SetYtd | None = None
    wipe: Wipe | None = None
    policy_dirname: str = "policies"  # under the data folder, where policies are loaded

# Sourced by scripts/run and scripts/test: idempotent set-up of a fresh Linux machine.
# Installs the Debian packages given in DEBS (when missing) and the project into .venv.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

ensure_debs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {  # $1: extras: "desk" (the app), "county" (the server), "dev" (both + tests)
  local extras="${1:-}"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp=".venv/.installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing Python packages ($spec) into .venv"
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e "$spec"
    touch "$stamp"
  fi
}

# Shared libraries Qt needs even offscreen, on a minimal Debian.
QT_DEBS=(libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0)
# ...and what its xcb platform plugin (a real display) needs besides; Qt's own message names
# only the first one missing (check with: ldd .venv/lib/python3*/site-packages/PySide6/Qt/plugins/platforms/libqxcb.so).
QT_XCB_DEBS=(libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-shm0
  libxcb-sync1 libxcb-xfixes0 libxcb-render0 libxcb-util1 libx11-xcb1)

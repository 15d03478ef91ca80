#!/usr/bin/env bash
# The restore drill (docs/province.md): bring the county database back from the last base
# backup and the archived WAL on a spare machine (or a spare port), check it, and say how
# long it took. Nothing of the live server is touched.
#
#   restore-drill.sh BASE_BACKUP_DIR WAL_ARCHIVE_DIR [PORT] [TARGET_TIME]
#
# BASE_BACKUP_DIR: what `pg_basebackup -D DIR -Ft -z -X none` wrote (base.tar.gz) or a plain
# copy (-Fp). WAL_ARCHIVE_DIR: where archive_command copied the WAL. TARGET_TIME (optional):
# restore to that moment ("2026-12-04 06:00:00+08"), else to the end of the archive.
# TOWNSHIP_DRILL_OPTIONS: more server settings, e.g. "-c max_connections=200" when the
# primary ran with more connections than its backed-up postgresql.conf says.
# Run as the postgres user. Prints the counts a person compares with the live server
# (and with the console's 年度参保 figures) and the time the restore took.
set -euo pipefail

BASE=${1:?base backup folder}
WAL=${2:?WAL archive folder}
PORT=${3:-55432}
TARGET=${4:-}
PG_BIN=${TOWNSHIP_PG_BIN:-/usr/lib/postgresql/15/bin}
DB=${TOWNSHIP_DRILL_DB:-township}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/township-restore-XXXXXX")
START=$(date +%s.%N)

cleanup() {
  rc=$?
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    echo "--- 数据库日志（最后几行）：" >&2
    tail -n 15 "$WORK/server.log" >&2
  fi
  "$PG_BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true
  [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$WORK/data" "$WORK/sock"
chmod 700 "$WORK/data"
if [ -f "$BASE/base.tar.gz" ]; then
  tar -xzf "$BASE/base.tar.gz" -C "$WORK/data"
elif [ -f "$BASE/base.tar" ]; then
  tar -xf "$BASE/base.tar" -C "$WORK/data"
else
  cp -a "$BASE/." "$WORK/data/"
fi
rm -f "$WORK/data/postmaster.pid" "$WORK/data/standby.signal"
{
  echo "restore_command = 'cp \"$WAL/%f\" \"%p\"'"
  [ -n "$TARGET" ] && echo "recovery_target_time = '$TARGET'"
  echo "recovery_target_action = 'promote'"
  echo "archive_mode = off"
} >> "$WORK/data/postgresql.auto.conf"
touch "$WORK/data/recovery.signal"

"$PG_BIN/pg_ctl" -D "$WORK/data" -w -t 600 -l "$WORK/server.log" \
  -o "-p $PORT -k $WORK/sock -c listen_addresses='' ${TOWNSHIP_DRILL_OPTIONS:-}" start >/dev/null
# wait for the end of recovery (promotion)
for _ in $(seq 1 600); do
  state=$("$PG_BIN/psql" -h "$WORK/sock" -p "$PORT" -d postgres -Atc "SELECT pg_is_in_recovery()" 2>/dev/null || true)
  [ "$state" = "f" ] && break
  sleep 1
done
if [ "$state" != "f" ]; then
  echo "恢复未完成：请查看 $WORK/server.log" >&2
  KEEP=1
  exit 1
fi
END=$(date +%s.%N)

q() { "$PG_BIN/psql" -h "$WORK/sock" -p "$PORT" -d "$DB" -Atc "$1"; }
echo "恢复完成，用时 $(awk "BEGIN { printf \"%.1f\", $END - $START }") 秒（数据库 $DB）"
# the counts to compare with the live server (and the console's 年度参保 figures)
for t in service_point device person enrollment payment applied_op; do
  echo "$t: $(q "SELECT count(*) FROM $t")"
done
echo "last_change: $(q 'SELECT coalesce(max(at)::text, $$-$$) FROM change_log')"

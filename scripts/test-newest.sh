#!/usr/bin/env bash
# The suite and the type checker with the NEWEST release of every dependency, ignoring uv.lock.
#
# uv.lock holds the versions the suite last passed with (CI and the README's commands use it);
# users who `pip install authdemo` get whatever is newest within pyproject.toml's ranges. This
# resolves those ranges afresh (`--refresh`: no cached index page) into a throwaway environment,
# prints each version that differs from the lock, and runs `pytest` and `mypy` there.
# When it fails, the fix is in the code, not in a pin; then `uv lock --upgrade` records the new set.
#
# Usage: scripts/test-newest.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
unset PYTHONDONTWRITEBYTECODE
env_dir="$(mktemp -d "${TMPDIR:-/tmp}/authdemo-newest.XXXXXX")"
trap 'rm -rf "$env_dir"' EXIT

uv venv --quiet "$env_dir"
uv pip install --quiet --refresh --python "$env_dir/bin/python" -e '.[test]'

# What differs from the lock (name==newest, locked).
uv export --quiet --frozen --no-hashes --no-emit-project --format requirements-txt |
  sed -n 's/^\([A-Za-z0-9_.-]*\)==\([^ ;]*\).*/\1 \2/p' | tr 'A-Z_' 'a-z-' | sort >"$env_dir/locked"
uv pip freeze --python "$env_dir/bin/python" --exclude-editable |
  sed -n 's/^\([A-Za-z0-9_.-]*\)==\(.*\)/\1 \2/p' | tr 'A-Z_' 'a-z-' | sort >"$env_dir/newest"
newer="$(join "$env_dir/newest" "$env_dir/locked" | awk '$2 != $3 {print "  " $1 " " $2 " (lock: " $3 ")"}')"
if [ -n "$newer" ]; then
  printf "Newer than uv.lock (the lock also serves Python 3.10, which some new releases drop):\n%s\n" "$newer"
else
  echo "Every dependency's newest release is the locked one."
fi

export VIRTUAL_ENV="$env_dir" PATH="$env_dir/bin:$PATH"
python -m pytest "$@"
mypy

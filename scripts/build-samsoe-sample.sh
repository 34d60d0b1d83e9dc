#!/usr/bin/env bash
# Builds the Samsø sample study's OSM layers (roads, places, facilities) with `klynge import-osm`.
# Inputs are in data/samsoe/ (copied from the workplace's shared data; provenance in data/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
.build/debug/klynge import-osm data/samsoe/samsoe-2020-03-09.osm.pbf -o data/samsoe/samsoe-osm.gpkg
.build/debug/klynge validate data/samsoe/study.yaml

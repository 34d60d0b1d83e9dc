# Klynge: `make run` runs the main job on the bundled Samsø sample; `make test` runs the tests.
# Both install missing system packages first (as root).
SWIFT ?= swift
KLYNGE = .build/debug/klynge
STUDY = data/samsoe/study.yaml
PBF = data/samsoe/samsoe-2020-03-09.osm.pbf

.PHONY: deps build run test bench load sample clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

# The main job on the bundled sample: import the OSM extract, validate the study, export every layer, then the
# analysis (baseline coverage, the study's scenarios compared, closure impact, clusters) with a summary in out/summary.md.
run: build
	mkdir -p out
	$(KLYNGE) inspect $(PBF)
	$(KLYNGE) import-osm $(PBF) -o out/samsoe-osm.gpkg
	$(KLYNGE) validate $(STUDY)
	$(KLYNGE) export $(STUDY) --layer areas demand facilities roads -o out/samsoe.gpkg
	for layer in areas demand facilities roads; do $(KLYNGE) export $(STUDY) --layer $$layer -o out/$$layer.geojson || exit 1; done
	$(KLYNGE) export $(STUDY) --layer facilities -o out/facilities.csv
	$(KLYNGE) snap $(STUDY) --mode car -o out/snap-car.geojson
	$(KLYNGE) matrix $(STUDY) --mode car -o out/matrix-car.csv
	$(KLYNGE) matrix $(STUDY) --mode bike --category school --nearest 1 -o out/nearest-school-bike.csv
	$(KLYNGE) isochrones $(STUDY) --mode car --category hall --minutes 5,10,15 -o out/isochrones-hall-car.geojson
	$(KLYNGE) report $(STUDY) --out-dir out
	$(KLYNGE) profile $(STUDY) -o out/profile.csv
	mkdir -p out/maps
	$(KLYNGE) render $(STUDY) --style overview --paper A3 -o out/maps/overview.pdf
	$(KLYNGE) render $(STUDY) --style overview --paper A4 --dpi 200 -o out/maps/overview.png
	$(KLYNGE) render $(STUDY) --style coverage --category hall --paper A3 --dpi 300 -o out/maps/coverage-hall.png --geojson out/maps/coverage-hall.geojson
	$(KLYNGE) render $(STUDY) --style coverage --category school -o out/maps/coverage-school.svg
	$(KLYNGE) render $(STUDY) --style scenario --category hall --scenario "Multihus i Nordby" --dpi 200 -o out/maps/scenario-multihus.png
	$(KLYNGE) render $(STUDY) --style clusters --dpi 200 -o out/maps/clusters.png
	$(KLYNGE) regions $(STUDY) --clusters 3 --max-minutes 12 --store out/proposals.gpkg --save "Tre klynger" -o out/regions.gpkg
	$(KLYNGE) regions $(STUDY) --max-clusters --min-population 600 --json > out/regions-max-p.json
	$(KLYNGE) regions compare $(STUDY) --store out/proposals.gpkg -o out/regions-compare.md --map out/maps/regions-compare.png
	$(KLYNGE) render $(STUDY) --style clusters --store out/proposals.gpkg --clustering "Tre klynger" --dpi 200 -o out/maps/regions.png
	$(KLYNGE) render $(STUDY) --style masterplan --paper A3 --landscape -o out/maps/masterplan.pdf
	$(KLYNGE) optimize $(STUDY) --category hall --objective coverage --candidates places --sweep 1..5 --chart out/maps/halls-how-many.png
	$(KLYNGE) optimize $(STUDY) --category hall --objective median --facilities 2 --candidates places
	mkdir -p out/survey
	$(KLYNGE) survey check $(STUDY)
	rm -f out/survey/store.gpkg out/survey/store.gpkg.lock
	$(KLYNGE) survey import $(STUDY) --store out/survey/store.gpkg data/samsoe/survey-demo-answers.jsonl
	$(KLYNGE) survey results $(STUDY) --store out/survey/store.gpkg -o out/survey/results.md
	$(KLYNGE) survey results $(STUDY) --store out/survey/store.gpkg -o out/survey/results.json
	$(KLYNGE) survey export $(STUDY) --store out/survey/store.gpkg -o out/survey/answers.gpkg
	$(KLYNGE) survey qr $(STUDY) --url http://127.0.0.1:8080/survey/samsoe-2027/ -o out/survey/qr.pdf
	$(KLYNGE) survey qr $(STUDY) --url http://127.0.0.1:8080/survey/samsoe-2027/ -o out/survey/qr.png
	$(KLYNGE) render $(STUDY) --style survey --category hall --store out/survey/store.gpkg --dpi 200 -o out/maps/survey-hall.png
	$(KLYNGE) compare $(STUDY) --scenario "Ét forsamlingshus i Tranebjerg" --category hall --survey samsoe-2027 --store out/survey/store.gpkg
	# The published plan: the survey's answers and a saved cluster proposal in one store, then the site and the A4 PDF.
	cp out/survey/store.gpkg out/plan-store.gpkg
	$(KLYNGE) regions $(STUDY) --clusters 3 --max-minutes 12 --store out/plan-store.gpkg --save "Tre klynger" -o out/plan-regions.gpkg
	$(KLYNGE) publish $(STUDY) --store out/plan-store.gpkg -o out/plan -o out/plan.pdf
	@echo "Outputs in out/; the summary is out/summary.md, the published plan out/plan/index.html and out/plan.pdf"

# The PostGIS tests run against a local database that scripts/postgis-test-db.sh sets up (as root).
test: build
	KLYNGE_TEST_PG="$$(scripts/postgis-test-db.sh)" $(SWIFT) test
	python3 scripts/check_osm_import.py $(KLYNGE) $(PBF)
	python3 scripts/check_matrix_scipy.py $(KLYNGE) $(STUDY)
	python3 scripts/check_coverage.py $(KLYNGE) $(STUDY)
	python3 scripts/check_capacitated.py $(KLYNGE) $(STUDY)
	python3 scripts/check_attendance.py $(KLYNGE) $(STUDY)
	python3 scripts/check_profile.py $(KLYNGE) $(STUDY) out/test-profile
	python3 scripts/check_webpage.py $(KLYNGE) $(STUDY) out/test
	python3 scripts/check_survey.py $(KLYNGE) $(STUDY) out/test-survey
	# Two instances on one PostgreSQL store behind nginx: concurrent writes, kill -9, the database restarted under load.
	python3 scripts/check_shared_store.py $(KLYNGE) $(STUDY) out/test-shared
	# The published plan: every figure against the JSON outputs, the PDF with poppler, every page in chromium with axe-core.
	rm -rf out/test-publish && mkdir -p out/test-publish
	$(KLYNGE) survey import $(STUDY) --store out/test-publish/store.gpkg data/samsoe/survey-demo-answers.jsonl
	$(KLYNGE) regions $(STUDY) --clusters 3 --max-minutes 12 --store out/test-publish/store.gpkg --save "Tre klynger" -o out/test-publish/regions.gpkg
	$(KLYNGE) publish $(STUDY) --store out/test-publish/store.gpkg -o out/test-publish/site -o out/test-publish/plan.pdf
	python3 scripts/check_publish.py --klynge $(KLYNGE) --study $(STUDY) --store out/test-publish/store.gpkg --survey samsoe-2027 \
	  --site out/test-publish/site --pdf out/test-publish/plan.pdf --expect-chapters 6 --require-source coverage compare profile clusters impact regions survey
	$(KLYNGE) publish $(STUDY) --store out/test-publish/store.gpkg --clustering "Tre klynger" --scenario "Multihus i Nordby" --lang en \
	  -o out/test-publish/site-en -o out/test-publish/plan-en.pdf
	python3 scripts/check_publish.py --klynge $(KLYNGE) --study $(STUDY) --store out/test-publish/store.gpkg --survey samsoe-2027 --clustering "Tre klynger" \
	  --scenario "Multihus i Nordby" --lang en --site out/test-publish/site-en --pdf out/test-publish/plan-en.pdf --expect-chapters 6

# Every benchmark: matrices (against scipy), scenarios, maps (against geopandas + matplotlib), location-allocation and regions (against spopt).
bench:
	KLYNGE_BENCH=1 scripts/install-deps.sh
	$(SWIFT) build -c release --product klynge-bench
	$(SWIFT) build -c release --product klynge
	.build/release/klynge-bench $(STUDY) out/bench
	python3 scripts/bench_scipy.py out/bench
	python3 scripts/bench_matrix_job.py .build/release/klynge out/bench
	python3 scripts/bench_render_matplotlib.py out/bench
	python3 scripts/bench_render_job.py .build/release/klynge out/bench --runs 3 --points 4000,20000
	python3 scripts/bench_publish_job.py .build/release/klynge out/bench --runs 3
	python3 scripts/bench_optimize_spopt.py out/bench
	python3 scripts/bench_regions_spopt.py out/bench
	python3 scripts/bench_regions_parishes_spopt.py out/bench

# The service on loopback (wrk): light and heavy mixes, renders running, abandoned requests; on the sample and
# on a 4,000-village study made from it; then one and two instances on a shared PostgreSQL store behind nginx.
load: deps
	$(SWIFT) build -c release --product klynge
	scripts/load_test.sh .build/release/klynge $(STUDY)
	python3 scripts/make_kommune_study.py out/kommune
	scripts/load_test.sh .build/release/klynge out/kommune/study.yaml
	python3 scripts/load_shared.py .build/release/klynge $(STUDY) out/load-shared

# Rebuild data/samsoe/samsoe-osm.gpkg from the bundled OSM extract.
sample: build
	scripts/build-samsoe-sample.sh

clean:
	rm -rf out

#!/usr/bin/env python3
"""The whole publish job, as a user runs it, on the sample and on a Bornholm-sized study.

`klynge publish STUDY -o SITE -o PLAN.pdf` is timed as a process from start to exit (read the study, build the
network and access tables, compare every scenario, draw every map as SVG and into the PDF, write the site and
the PDF); best and median of N runs. The Bornholm-sized study (21 parishes, 75 villages, about 3,000 roads,
50 facilities, 10 scenarios, a facts layer, focus areas and sketches) is written by
scripts/make_bornholm_study.py into OUT_FOLDER/bornholm. For scale, `klynge report` (the analysis without
maps or pages) is timed on the same study. No peer tool writes this report; the issue's target is "seconds".
Figures go to OUT_FOLDER/publish-job.json.

Usage: bench_publish_job.py KLYNGE_BINARY OUT_FOLDER [--runs N]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(cmd, cwd):
    start = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return seconds, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("klynge")
    ap.add_argument("out")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    klynge = os.path.abspath(a.klynge)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    bornholm = os.path.join(out, "bornholm")
    if not os.path.exists(os.path.join(bornholm, "study.yaml")):
        subprocess.run([sys.executable, os.path.join(HERE, "make_bornholm_study.py"), bornholm], check=True)
    studies = [("samsoe", os.path.join(ROOT, "data", "samsoe", "study.yaml")), ("bornholm", os.path.join(bornholm, "study.yaml"))]
    results = {"load_before": os.getloadavg()[0], "cores": os.cpu_count(), "studies": {}}
    print(f"publish job (best / median of {a.runs}; load {results['load_before']:.2f} on {results['cores']} cores)")
    for name, study in studies:
        site, pdf = os.path.join(out, f"publish-{name}"), os.path.join(out, f"publish-{name}.pdf")
        times, printed = [], ""
        for _ in range(a.runs):
            shutil.rmtree(site, ignore_errors=True)
            s, printed = timed([klynge, "publish", study, "-o", site, "-o", pdf], ROOT)
            times.append(s)
        report = [timed([klynge, "report", study, "--out-dir", os.path.join(out, f"report-{name}")], ROOT)[0] for _ in range(a.runs)]
        lines = [l for l in printed.splitlines() if l.startswith("Wrote")]
        results["studies"][name] = {"publish_best_s": min(times), "publish_median_s": statistics.median(times),
                                    "report_best_s": min(report), "written": lines}
        print(f"  {name:9s} publish {min(times):6.2f} s / {statistics.median(times):6.2f} s   "
              f"(report alone {min(report):5.2f} s)   " + "; ".join(l.replace(out + '/', '') for l in lines))
    results["load_after"] = os.getloadavg()[0]
    with open(os.path.join(out, "publish-job.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

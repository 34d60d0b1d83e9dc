#!/usr/bin/env python3
"""Load on loopback (wrk) of the service with a shared PostgreSQL store: one instance, then two, behind nginx.

Two mixes, each measured against one instance and against two (both behind the same nginx, so the proxy's cost is
in both figures):
- reads: the saved scenarios, a saved scenario's coverage, ten demand points (answered from memory);
- answers: residents sending the citizen survey's form, each from a new device (a write to PostgreSQL each, with
  the one-answer-per-device check in the database) — the evening after a town-hall meeting.
Prints req/s and p99 for each, and exits 1 on any error answer.

Usage: load_shared.py KLYNGE STUDY OUT_FOLDER   (LOAD_SECONDS, default 15, sets each run's length)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from klynge_service import Service, request  # noqa: E402
from shared_servers import PrivatePostgres, Proxy, open_survey_study  # noqa: E402

klynge, study, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
seconds = int(os.environ.get("LOAD_SECONDS", "15"))
TOKEN = "load-shared-token-8812"
if not shutil.which("wrk") or not shutil.which("nginx"):
    raise SystemExit("load_shared: needs wrk and nginx (apt-get install wrk nginx-light)")


def wrk(base, script, connections=40):
    r = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script, base], capture_output=True, text=True)
    text = r.stdout
    if "Requests/sec" not in text:
        raise SystemExit(f"load_shared: wrk failed: {r.stderr[-400:] or text[-400:]}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", text)
    p99ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", text)
    done = int(re.search(r"(\d+) requests in", text).group(1))
    return rps, p99ms, errors, done


def main():
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="klynge-load-", dir=out)
    os.chmod(work, 0o755)
    pg = PrivatePostgres(os.path.join(work, "pg"))
    study_file = open_survey_study(study, work)
    survey = re.search(r"^id:\s*(\S+)", open(os.path.join(work, "survey.yaml")).read(), re.M).group(1)
    answer = open(os.path.join(os.path.dirname(study), "survey-demo-answers.jsonl")).readline().strip()
    args = ("--survey-rate", "100000/0.001", "--no-request-log")
    instances = [Service(klynge, study_file, pg.url, TOKEN, extra=args) for _ in range(2)]
    if not all(s.up for s in instances):
        raise SystemExit(f"load_shared: an instance did not start: {[s.log for s in instances]}")
    code, _, raw = request("POST", f"{instances[0].base}/api/scenarios", json.dumps({"name": "Belastning", "close": ["node/5938809867"]}),
                           {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert code == 201, raw
    reads = os.path.join(work, "reads.lua")
    with open(reads, "w") as f:
        f.write('local paths = {"/api/scenarios", "/api/coverage?scenario=belastning&category=hall&points=none", '
                '"/collections/demand/items?limit=10"}\nlocal i = 0\n'
                'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end\n')
    answers = os.path.join(work, "answers.lua")
    cookie = "klynge_device_" + survey.replace("-", "_")
    with open(answers, "w") as f:
        # Each wrk thread has its own Lua state: a thread number (set in setup) keeps their devices apart.
        f.write(f'local body = {json.dumps(answer)}\nlocal n = 0\nlocal threads = 0\n'
                'setup = function(thread) threads = threads + 1; thread:set("tid", threads) end\n'
                'init = function(args) math.randomseed(os.time() * 100 + tid) end\n'
                'request = function()\n  n = n + 1\n'
                '  local device = string.format("%08x%08x%08x%08x", math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), '
                'math.random(0, 0x7fffffff), tid * 0x1000000 + n)\n'
                f'  return wrk.format("POST", "/survey/{survey}/answers", {{["Content-Type"]="application/json", ["Cookie"]="{cookie}=" .. device}}, body)\n'
                'end\n')
    print(f"Machine: {os.cpu_count()} cores; load before: {open('/proc/loadavg').read().split()[:3]}; {seconds} s per run, 40 connections, "
          "wrk, nginx, PostgreSQL and the instances on the same machine")
    status = 0
    results = {}
    answered = 0
    for n in (1, 2):
        proxy = Proxy(os.path.join(work, f"nginx{n}"), [s.port for s in instances[:n]])
        try:
            for name, script in (("reads", reads), ("survey answers", answers)):
                rps, p99, errors, done = wrk(proxy.base, script)
                if script == answers:
                    answered += done
                results[(n, name)] = (rps, p99)
                print(f"{n} instance{'s' if n > 1 else ' '} behind nginx, {name:15s} {rps:9.0f} req/s   p99 {p99:7.1f} ms   {', '.join(errors) or '0 errors'}")
                if errors:
                    status = 1
        finally:
            proxy.stop()
    stored = int(pg.sql("SELECT count(*) FROM klynge.records WHERE kind = 'klynge_survey_responses' AND id NOT LIKE 'device:%'"))
    # Every acknowledged answer is stored; a few more may be, whose answers wrk stopped waiting for at the end of a run.
    print(f"answers acknowledged: {answered}; stored in PostgreSQL: {stored}")
    if not answered <= stored <= answered + 2 * 40:
        print("FAIL: the stored answers do not match the acknowledged ones")
        status = 1
    for name in ("reads", "survey answers"):
        one, two = results[(1, name)], results[(2, name)]
        print(f"{name}: two instances give {two[0] / one[0]:.2f}× the throughput of one; p99 {one[1]:.1f} → {two[1]:.1f} ms")
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}")
    for s in instances:
        s.kill()
    pg.stop()
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(status)


main()

"""Servers that the shared-store checks and the load test start on loopback: a private PostgreSQL (so that it can be
stopped and restarted at will), nginx in front of several `klynge serve` instances, and the sample study with its
survey open."""
import datetime
import glob
import os
import re
import shutil
import subprocess
import time
import urllib.request

from klynge_service import free_port


def as_postgres(cmd):
    """Runs a PostgreSQL program as the postgres user when we are root (initdb refuses root)."""
    return (["runuser", "-u", "postgres", "--"] + cmd) if os.geteuid() == 0 else cmd


class PrivatePostgres:
    """A PostgreSQL server of its own in a temporary folder, on a free port, with a password for TCP clients."""
    password = "Kl9sEcretPw7743"

    @staticmethod
    def programs():
        return sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))

    @staticmethod
    def missing():
        """Why no private server can be started here (None when one can)."""
        if not PrivatePostgres.programs():
            return "PostgreSQL's programs are not installed (apt-get install postgresql)"
        if os.geteuid() == 0 and not shutil.which("runuser"):
            return "runuser is missing (util-linux), needed to run PostgreSQL as root"
        return None

    def __init__(self, folder):
        self.bin = os.path.dirname(self.programs()[-1])
        self.folder = folder
        self.data = os.path.join(folder, "data")
        self.port = free_port()
        os.makedirs(folder, exist_ok=True)
        pwfile = os.path.join(folder, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        subprocess.run(as_postgres([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                                    f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"]), check=True, stdout=subprocess.DEVNULL)
        self.start()
        subprocess.run(as_postgres([f"{self.bin}/psql", "-h", folder, "-p", str(self.port), "-U", "postgres", "-qc", "CREATE DATABASE klynge"]),
                       check=True, stdout=subprocess.DEVNULL)
        self.url = f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/klynge"

    def start(self):
        subprocess.run(as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "log"), "-w", "-o",
                                    f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start"]), check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run(as_postgres([f"{self.bin}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"]), stdout=subprocess.DEVNULL)

    def sql(self, statement):
        r = subprocess.run(as_postgres([f"{self.bin}/psql", "-h", self.folder, "-p", str(self.port), "-U", "postgres", "-d", "klynge", "-tAc", statement]),
                           capture_output=True, text=True, check=True)
        return r.stdout.strip()


class Proxy:
    """nginx from Debian in front of the instances, round-robin, as the README's example configures it."""

    @staticmethod
    def missing():
        return None if shutil.which("nginx") or os.path.exists("/usr/sbin/nginx") else "nginx is not installed (apt-get install nginx-light)"

    def __init__(self, folder, ports):
        self.port = free_port()
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        upstream = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in ports)
        conf = f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  upstream klynge {{
{upstream}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{self.port};
    client_max_body_size 1m;
    location / {{
      proxy_pass http://klynge;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host:$server_port;
      proxy_set_header X-Request-Id $request_id;
      proxy_read_timeout 120s;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""
        self.conf = os.path.join(folder, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", self.conf, "-p", folder, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.base = f"http://127.0.0.1:{self.port}"
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(f"{self.base}/health", timeout=2)
                return
            except Exception:
                time.sleep(0.1)
        raise SystemExit(f"shared_servers: nginx did not start: {self.proc.stderr.read(600) if self.proc.poll() is not None else ''}")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def open_survey_study(study, folder):
    """The sample study with its survey open from yesterday, in a folder of its own."""
    today = datetime.date.today()
    base = os.path.dirname(study)
    text = open(study).read()
    text = re.sub(r"(\bsource:\s*)(?![/\"'])", r"\g<1>" + base + "/", text)
    survey = open(os.path.join(base, "survey.yaml")).read()
    survey = re.sub(r"^opens:.*$", f"opens: {(today - datetime.timedelta(days=1)).isoformat()}", survey, flags=re.M)
    survey = re.sub(r"^closes:.*$", f"closes: {(today + datetime.timedelta(days=20)).isoformat()}", survey, flags=re.M)
    with open(os.path.join(folder, "survey.yaml"), "w") as f:
        f.write(survey)
    path = os.path.join(folder, "study.yaml")
    with open(path, "w") as f:
        f.write(text)
    return path

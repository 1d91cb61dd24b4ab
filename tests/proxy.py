"""Debian's nginx as a reverse proxy in front of replicas, in a folder of its own (tests and
benchmarks). ``scripts/bootstrap.sh dev`` installs it; without it the tests that need it fail."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NGINX = "/usr/sbin/nginx"

CONFIG = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream maillage {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://maillage;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # a replica that refuses the connection or answers 502/503 (stopping, restarting): the
            # next one; writes are idempotent upserts, so a PUT may be sent again as well
            proxy_next_upstream error timeout http_502 http_503 non_idempotent;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 1s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def config(port: int, upstreams: list[str], directory: Path) -> str:
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=2s;" for u in upstreams)
    return CONFIG.format(dir=directory, port=port, servers=servers)


@contextlib.contextmanager
def nginx(port: int, upstreams: list[str]) -> Iterator[str]:
    """nginx on 127.0.0.1:``port`` in front of ``upstreams`` (``host:port``); yields its base URL."""
    if not Path(NGINX).exists():
        raise RuntimeError(f"{NGINX} manque : bash scripts/bootstrap.sh dev installe le paquet Debian nginx")
    directory = Path(tempfile.mkdtemp(prefix="maillage-nginx-"))
    (directory / "nginx.conf").write_text(config(port, upstreams, directory), encoding="utf-8")
    proc = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise RuntimeError(f"nginx s'est arrêté : {proc.stderr.read().decode()}") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(directory, ignore_errors=True)

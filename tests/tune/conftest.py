"""Fixtures for the tuner tests: a fresh SQLite study per test, and a throwaway local PostgreSQL server.

The PostgreSQL server is started once per test process (``initdb`` + ``pg_ctl`` on a free loopback
port, data in a temporary folder, ``fsync=off``) when its programs and the ``psycopg`` driver are
installed; each test gets its own database. As root the server runs as ``nobody`` (PostgreSQL refuses
to run as root).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest


@pytest.fixture
def storage_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'tune.db'}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: str) -> list[str]:
    return ["su", "nobody", "-s", "/bin/sh", "-c", cmd] if os.geteuid() == 0 else ["/bin/sh", "-c", cmd]


@pytest.fixture(scope="session")
def postgres_server():
    missing = [p for p in ("initdb", "pg_ctl") if shutil.which(p) is None]
    if importlib.util.find_spec("psycopg") is None:
        missing.append("the psycopg driver (pip install 'psycopg[binary]')")
    if missing:
        pytest.skip(reason=f"PostgreSQL test needs {', '.join(missing)}")
    root = tempfile.mkdtemp(prefix="optimlab-pg-")
    os.chmod(root, 0o777)
    port = _free_port()
    data = os.path.join(root, "data")
    subprocess.run(_as_server_user(f"initdb -D {data} -U optimlab --auth=trust -E UTF8 >/dev/null"), check=True)
    opts = f"-k {root} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
    subprocess.run(_as_server_user(f"pg_ctl -D {data} -o '{opts}' -l {root}/log -w start >/dev/null"), check=True)
    try:
        yield f"postgresql://optimlab@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_server_user(f"pg_ctl -D {data} -m immediate stop >/dev/null"), check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_storage(request, tmp_path) -> str:
    """A storage that several processes share: SQLite, and PostgreSQL where it is installed."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("postgres_url")

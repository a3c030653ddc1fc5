"""A real FHIR R4 server for the hand-off tests: Medplum's router with its in-memory repository
(``tests/fhir_server/server.js``, the npm packages pinned in ``tests/fhir_server/package.json`` and
its lockfile), started on 127.0.0.1 on a free port and stopped after the test.

Tests that need it skip only when Node.js is absent on a developer's machine; under CI
(``NURSE_APP_CI=1``, set by ``.ci/run``, which installs Node and runs ``npm ci``) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from repo_paths import TESTS

SERVER_DIR = TESTS / "fhir_server"
START_TIMEOUT_S = 60


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("NURSE_APP_CI"):
            pytest.fail("Node.js is required for the FHIR server tests in CI (.ci/run installs it)")
        pytest.skip("Node.js is not installed: the FHIR hand-off tests need it (apt-get install nodejs npm)")
    if not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing: run `npm ci` in tests/fhir_server (apt-get install npm)")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=SERVER_DIR, check=True, timeout=600)
    return node


class FhirServer:
    """One running server process; ``base`` is its FHIR base URL."""

    def __init__(self, env: dict[str, str] | None = None, port: int = 0):
        self.env = env or {}
        self.port = port
        self.proc: subprocess.Popen[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/R4"

    def start(self) -> FhirServer:
        node = _node()
        env = {**os.environ, **self.env, "FHIR_TEST_PORT": str(self.port)}
        self.proc = subprocess.Popen(
            [node, str(SERVER_DIR / "server.js")],
            cwd=SERVER_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("LISTENING ") or time.monotonic() > deadline:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            raise RuntimeError(f"the test FHIR server did not start: {line!r} {err[-2000:]}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    def restart(self) -> FhirServer:
        """Start again on the same port (the in-memory data of the stopped one are gone)."""
        self.stop()
        return self.start()

    def get(self, path: str, token: str | None = None) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base}/{path}")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def put(self, resource: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}/{resource['resourceType']}/{resource['id']}",
            data=json.dumps(resource).encode(),
            method="PUT",
            headers={"Content-Type": "application/fhir+json"},
        )
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.loads(response.read())
            return result

    def search(self, query: str, token: str | None = None) -> list[dict[str, Any]]:
        """Every resource a search finds (follows no paging: the tests' counts are small)."""
        bundle = self.get(query + ("&" if "?" in query else "?") + "_count=1000", token)
        return [e["resource"] for e in bundle.get("entry") or ()]

    def count(self, query: str, token: str | None = None) -> int:
        """How many resources a search matches (``_summary=count``: no paging limit)."""
        total: int = self.get(query + ("&" if "?" in query else "?") + "_summary=count", token)["total"]
        return total


def running_server(env: dict[str, str] | None = None) -> Iterator[FhirServer]:
    server = FhirServer(env).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fhir_server() -> Iterator[FhirServer]:
    yield from running_server()


def server_dir() -> Path:
    return SERVER_DIR

"""Fixtures for the interop tests: our real server and emulator as subprocesses, stubs generated from Protos/."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "interop-secret-0123456789abcdef0123456789abcdef"
EMULATOR_KEY = "sk-emulator-0000000000000000"


def binary() -> str:
    path = os.environ.get("MODEL_MANAGER_BIN") or str(ROOT / ".build" / "debug" / "model-manager")
    if not os.path.exists(path):
        pytest.fail(f"{path} not found: build first (swift build --product model-manager)")
    return path


@pytest.fixture(scope="session")
def stubs():
    """Python stubs generated from Protos/ now, so they always match the protos."""
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp(prefix="mm-stubs-")
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    for proto in ("model_service.proto", "health.proto"):
        result = protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", proto])
        assert result == 0, f"protoc failed for {proto}"
    sys.path.insert(0, out)
    import health_pb2, health_pb2_grpc, model_service_pb2, model_service_pb2_grpc  # noqa: E401

    class Stubs:
        pb = model_service_pb2
        grpc = model_service_pb2_grpc
        health = health_pb2
        health_grpc = health_pb2_grpc

    return Stubs


class Process:
    """A model-manager subprocess whose JSON log goes to a file we can wait on."""

    def __init__(self, args, env=None):
        self.log_path = tempfile.mktemp(prefix="mm-log-")
        self.log = open(self.log_path, "w")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([binary(), *args], stdout=self.log, stderr=self.log, env=full_env)

    def wait_for_log(self, message, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in open(self.log_path):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg", "").startswith(message):
                    return entry
            if self.proc.poll() is not None:
                raise AssertionError(f"process exited ({self.proc.returncode}):\n{open(self.log_path).read()}")
            time.sleep(0.05)
        raise AssertionError(f"no '{message}' log line within {timeout}s:\n{open(self.log_path).read()}")

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self.log.close()
        return code

    def text(self):
        return open(self.log_path).read()


@pytest.fixture(scope="session")
def server():
    """`model-manager serve --demo` on a free port, plaintext, with the interop secret."""
    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-interop-"), "ledger.sqlite")
    process = Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"],
                      # Free heap goes back to the system every second: the whole suite runs through it.
                      env={"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": ledger,
                           "MODEL_MANAGER_MALLOC_TRIM_SECONDS": "1"})
    listening = process.wait_for_log("model-manager listening")
    demo = process.wait_for_log("demo mode")

    class Server:
        address = f"127.0.0.1:{listening['grpc_port']}"
        emulator_url = demo["emulator_url"]
        emulator_root = demo["emulator_root"]
        http_url = f"http://127.0.0.1:{listening['http_port']}"
        log = process

    yield Server
    code = process.stop()
    assert code == 0, f"server did not shut down cleanly on SIGTERM (exit {code}):\n{process.text()}"
    assert SECRET not in process.text(), "the JWT secret appeared in the server log"
    assert EMULATOR_KEY not in process.text(), "the upstream API key appeared in the server log"


@pytest.fixture
def sdk_env(server, monkeypatch):
    """The environment the tamar-model-client SDK reads (PROTOCOL.md §8)."""
    monkeypatch.setenv("MODEL_MANAGER_SERVER_ADDRESS", server.address)
    monkeypatch.setenv("MODEL_MANAGER_SERVER_JWT_SECRET_KEY", SECRET)
    monkeypatch.setenv("MODEL_MANAGER_SERVER_GRPC_USE_TLS", "false")
    monkeypatch.setenv("MODEL_MANAGER_SERVER_INVOKE_TIMEOUT", "20")
    return server


PEPPER = "interop-pepper-0123456789abcdef"


@pytest.fixture(scope="session")
def keyed():
    """A server with API keys on (its own ledger and pepper), and `model-manager keys|quotas …` on that ledger."""
    import grpc
    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-keys-"), "ledger.sqlite")
    env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": ledger,
           "MODEL_MANAGER_API_KEY_PEPPER": PEPPER}
    process = Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"], env=env)
    listening = process.wait_for_log("model-manager listening")
    process.wait_for_log("demo mode")

    def cli(*args, check=True):
        result = subprocess.run([binary(), *args, "--database", ledger], capture_output=True, text=True,
                                env={**os.environ, "MODEL_MANAGER_API_KEY_PEPPER": PEPPER}, timeout=60)
        if check:
            assert result.returncode == 0, result.stderr
        if result.returncode == 0 and args[:2] in (("keys", "create"), ("keys", "rotate")):
            secrets.append(json.loads(result.stdout)["key"])
        return result

    secrets = []

    channel = grpc.insecure_channel(f"127.0.0.1:{listening['grpc_port']}")

    class Keyed:
        http_url = f"http://127.0.0.1:{listening['http_port']}"

    Keyed.cli = staticmethod(cli)
    Keyed.channel = channel
    yield Keyed
    channel.close()
    assert process.stop() == 0
    log = process.text()
    assert PEPPER not in log, "the pepper appeared in the server log"
    assert not any(secret in log for secret in secrets), "an API key appeared in the server log"

"""The README's Swift client examples run against the server (built by the test command)."""
import os
import subprocess

from conftest import ROOT, SECRET


def test_client_examples_run(server):
    env = dict(os.environ, MODEL_MANAGER_SERVER_ADDRESS=server.address, MODEL_MANAGER_SERVER_GRPC_USE_TLS="false",
               MODEL_MANAGER_SERVER_JWT_SECRET_KEY=SECRET, MODEL_CLIENT_RESILIENT_ENABLED="true",
               MODEL_CLIENT_HTTP_FALLBACK_URL=server.http_url)
    binary = os.environ.get("MODEL_MANAGER_EXAMPLES_BIN") or str(ROOT / ".build" / "debug" / "client-examples")
    result = subprocess.run([binary], capture_output=True, text=True, timeout=120, env=env, cwd="/tmp")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "invoke: Echo: Be brief.\nHello!" in out or "invoke: Echo: Be brief. Hello!" in out
    assert "invokeStream: Echo: Stream to me | tokens:" in out
    assert "invokeBatch: [\"Echo: First\", \"Echo: Second\", \"error:" in out
    assert "image: https://" in out
    assert "getTaskStatus: not found" in out
    assert "traced: order-4711-step-1" in out
    assert "scoped: Echo: Scoped" in out
    assert "sync: Echo: Sync call / Echo: Sync stream" in out
    assert "circuit: closed" in out

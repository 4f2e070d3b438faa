"""Our Swift client (through `model-manager invoke`) against a Python grpcio server."""
import json
import os
import subprocess
from concurrent import futures

import grpc
import jwt
import pytest

from conftest import SECRET, binary

SEEN = []


@pytest.fixture
def python_server(stubs):
    class Service(stubs.grpc.ModelServiceServicer):
        def Invoke(self, request, context):
            md = dict(context.invocation_metadata())
            claims = jwt.decode(md["authorization"].removeprefix("Bearer "), SECRET, algorithms=["HS256"])
            SEEN.append({"metadata": md, "claims": claims, "request": request})
            text = request.extra["messages"][0]["content"]
            if request.stream:
                for word in ["py", "thon", " says ", text]:
                    yield stubs.pb.ModelResponseItem(content=word, request_id=md["x-request-id"])
                yield stubs.pb.ModelResponseItem(usage=json.dumps({"prompt_tokens": 1, "completion_tokens": 4, "total_tokens": 5}),
                                                 request_id=md["x-request-id"])
            else:
                yield stubs.pb.ModelResponseItem(content="python says " + text,
                                                 usage=json.dumps({"prompt_tokens": 1, "completion_tokens": 3, "total_tokens": 4}),
                                                 request_id=md["x-request-id"])

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    stubs.grpc.add_ModelServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    SEEN.clear()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def run_invoke(address, *args):
    env = dict(os.environ, MODEL_MANAGER_SERVER_JWT_SECRET_KEY=SECRET, MODEL_MANAGER_SERVER_GRPC_USE_TLS="false")
    return subprocess.run([binary(), "invoke", "--address", address, *args], capture_output=True, text=True, timeout=60, env=env)


def test_stream(python_server):
    result = run_invoke(python_server, "--request-id", "swift-1", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "python says hello"
    assert '"total_tokens":5' in result.stdout
    seen = SEEN[-1]
    assert seen["request"].stream is True
    assert seen["metadata"]["x-origin-request-id"] == "swift-1"
    assert seen["claims"]["user_id"] == "user-cli" and "exp" in seen["claims"]
    assert seen["request"].extra["model"] == "gpt-4o-mini"


def test_non_stream(python_server):
    result = run_invoke(python_server, "--no-stream", "--extra", '{"max_tokens": 5}', "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "python says hi"
    assert SEEN[-1]["request"].stream is False
    assert SEEN[-1]["request"].extra["max_tokens"] == 5.0

"""Soak: many concurrent streams through the release server to the emulator, for minutes.

    .venv/bin/python Benchmarks/soak/soak.py [--streams 1000] [--seconds 300] [--binary .build/release/model-manager]

Starts `model-manager serve --demo` on loopback ports, keeps --streams streaming Invoke calls in
flight (each a few seconds long: the emulator paces its chunks) until --seconds have passed, and
meanwhile samples the server's RSS every 5 s, from the moment every stream has its first item (so
the first minute is a minute of load, not the idle server starting). An idle client on its own channel pings every 10 s
(keepalive without calls, as the Python SDK does every 60 s) and must stay connected throughout.
Prints a summary and exits non-zero when a call failed, the idle channel was dropped, or the RSS
of the last minute is more than 10 % above the first minute's. Traffic goes to 127.0.0.1 only, and
everything stops by itself.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
import jwt

ROOT = Path(__file__).resolve().parents[2]
SECRET = "soak-secret-0123456789abcdef0123456789abcdef"


def stubs():
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp(prefix="mm-soak-stubs-")
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    assert protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--python_out={out}", "model_service.proto"]) == 0
    sys.path.insert(0, out)
    import model_service_pb2

    return model_service_pb2


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def token():
    return jwt.encode({"org_id": "soak", "user_id": "soak", "exp": int(time.time()) + 86400}, SECRET, algorithm="HS256")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--chunk-delay-ms", type=int, default=200)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "model-manager"))
    args = parser.parse_args()
    pb = stubs()
    from google.protobuf import struct_pb2

    grpc_port, http_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix="mm-soak-")
    log = open(os.path.join(workdir, "server.log"), "w")
    server = subprocess.Popen(
        [args.binary, "serve", "--demo", "--grpc-address", f"127.0.0.1:{grpc_port}", "--http-address", f"127.0.0.1:{http_port}",
         "--log-level", "warning"],
        env={**os.environ, "MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": os.path.join(workdir, "ledger.sqlite")},
        stdout=log, stderr=log)
    address = f"127.0.0.1:{grpc_port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", grpc_port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit(f"server did not start; log in {log.name}")
                time.sleep(0.1)

        extra = struct_pb2.Struct()
        extra.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one two three four five six seven eight nine ten"}],
                      "extra_headers": {"x-emulator-fault": f"chunk-delay-ms={args.chunk_delay_ms}"}})
        request = pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions", stream=True,
                                      org_id="soak", user_id="soak", client_type="soak", region="", extra=extra)
        body = request.SerializeToString()
        metadata = [("authorization", f"Bearer {token()}")]
        options = [("grpc.max_concurrent_streams", 5000)]
        channels = [grpc.aio.insecure_channel(address, options=options + [("grpc.channel_id", i)]) for i in range(args.channels)]
        calls = [channel.unary_stream("/model_service.ModelService/Invoke", request_serializer=lambda b: b,
                                      response_deserializer=pb.ModelResponseItem.FromString) for channel in channels]

        # The idle client: keepalive pings every 10 s with no call running.
        idle = grpc.aio.insecure_channel(address, options=[("grpc.keepalive_time_ms", 10000), ("grpc.keepalive_timeout_ms", 5000),
                                                           ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)])
        idle_call = idle.unary_stream("/model_service.ModelService/Invoke", request_serializer=lambda b: b,
                                      response_deserializer=pb.ModelResponseItem.FromString)
        once = pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions", stream=False, org_id="soak",
                                   user_id="idle", client_type="soak", region="", extra=extra).SerializeToString()
        [_ async for _ in idle_call(once, metadata=metadata, timeout=30)]
        idle_states = []

        async def watch_idle():
            state = idle.get_state()
            while True:
                await idle.wait_for_state_change(state)
                state = idle.get_state()
                idle_states.append((round(time.time() - started, 1), str(state)))

        started = time.time()
        end = started + args.seconds
        counts = {"calls": 0, "errors": 0, "chunks": 0}
        errors = []

        streaming = asyncio.Event()
        first_items = [0]

        async def worker(index):
            call = calls[index % len(calls)]
            first = True
            while time.time() < end:
                try:
                    items = []
                    async for item in call(body, metadata=metadata + [("x-request-id", str(uuid.uuid4()))], timeout=60):
                        items.append(item)
                        if first:
                            first = False
                            first_items[0] += 1
                            if first_items[0] == args.streams:
                                streaming.set()
                    counts["chunks"] += len(items)
                    if not items or items[-1].error or not items[-1].usage:
                        counts["errors"] += 1
                        errors.append(items[-1].error if items else "no items")
                except grpc.aio.AioRpcError as error:
                    counts["errors"] += 1
                    errors.append(f"{error.code().name}: {error.details()}")
                counts["calls"] += 1

        samples = []

        async def sample():
            # The soak's minutes count from when every stream is running: a sample of the idle
            # server before the first calls would make the first minute look smaller than it is.
            await asyncio.wait_for(streaming.wait(), timeout=args.seconds)
            sampling_started = time.time()
            while time.time() < end:
                samples.append((time.time() - sampling_started, rss_kib(server.pid)))
                await asyncio.sleep(5)

        watcher = asyncio.create_task(watch_idle())
        await asyncio.gather(sample(), *(worker(i) for i in range(args.streams)))
        # The idle channel still answers, on the connection it had.
        [_ async for _ in idle_call(once, metadata=metadata, timeout=30)]
        watcher.cancel()

        first = [rss for at, rss in samples if at < 60] or [samples[0][1]]
        span = samples[-1][0]
        last = [rss for at, rss in samples if at >= span - 60] or [samples[-1][1]]
        first_mib, last_mib = sum(first) / len(first) / 1024, sum(last) / len(last) / 1024
        growth = (last_mib - first_mib) / first_mib * 100
        summary = {
            "streams": args.streams, "seconds": args.seconds, "calls": counts["calls"], "errors": counts["errors"],
            "chunks": counts["chunks"], "calls_per_second": round(counts["calls"] / args.seconds, 1),
            "rss_first_minute_mib": round(first_mib, 1), "rss_last_minute_mib": round(last_mib, 1), "rss_growth_percent": round(growth, 1),
            "rss_peak_mib": round(max(rss for _, rss in samples) / 1024, 1),
            "rss_mib_by_minute": [round(sum(minute) / len(minute) / 1024, 1) for minute in by_minute(samples) if minute],
            "idle_channel_state_changes": idle_states,
            "first_errors": errors[:5],
        }
        print(json.dumps(summary, indent=2))
        for channel in channels + [idle]:
            await channel.close()
        failed = counts["errors"] > 0 or growth > 10 or idle_states
        return 1 if failed else 0
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def by_minute(samples):
    """The RSS samples of each whole minute, in order."""
    minutes = [[] for _ in range(int(max(at for at, _ in samples)) // 60 + 1)]
    for at, rss in samples:
        minutes[int(at) // 60].append(rss)
    return minutes


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

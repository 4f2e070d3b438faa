"""Real brokers for the billing tests: nats-server with JetStream and mosquitto, on free loopback ports."""
import os
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class NatsServer:
    """nats-server -js with a store directory that survives restarts (as a real deployment's would)."""

    def __init__(self):
        self.port = free_port()
        self.store = tempfile.mkdtemp(prefix="mm-nats-")
        self.proc = None
        self.start()

    @property
    def url(self):
        return f"nats://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen(["nats-server", "-js", "-sd", self.store, "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    async def billing_messages(self):
        """Every message in the BILLING stream: (Nats-Msg-Id, payload dict)."""
        import json
        import nats
        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            info = await js.stream_info("BILLING")
            messages = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg("BILLING", seq)
                messages.append((msg.headers.get("Nats-Msg-Id") if msg.headers else None, json.loads(msg.data)))
            return messages
        finally:
            await nc.close()


class Mosquitto:
    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="mm-mqtt-")
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    @property
    def url(self):
        return f"mqtt://127.0.0.1:{self.port}/billing/usage/recorded/"

    def subscribe(self, topic):
        """A QoS 1 subscriber on `topic`; every message lands in its `received` as (topic, payload dict).
        Call its `loop_stop()` when done."""
        import json
        import paho.mqtt.client as mqtt
        subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        subscriber.received = []
        subscriber.on_message = lambda client, userdata, message: subscriber.received.append(
            (message.topic, json.loads(message.payload)))
        subscriber.connect("127.0.0.1", self.port)
        subscriber.subscribe(topic, qos=1)
        subscriber.loop_start()
        return subscriber

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

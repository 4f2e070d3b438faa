internal import CMosquitto
import Foundation
import Synchronization

/// QoS 1 publishes over libmosquitto: `publish` returns once the broker's PUBACK arrived.
/// Delivery is at least once; consumers de-duplicate by the record id in the payload.
public final class MQTTPublisher: BillingPublisher, @unchecked Sendable {
    public let sink = "mqtt"
    private let host: String
    private let port: Int
    private let topicPrefix: String
    private let queue = BlockingQueue(label: "model-manager.mqtt-publisher")
    // Touched only on `queue`.
    private var client: OpaquePointer?
    private let acknowledgements = AcknowledgementBox()

    /// Waiters for PUBACKs by message id, reached from libmosquitto's network thread.
    final class AcknowledgementBox: Sendable {
        let waiters = Mutex([Int32: DispatchSemaphore]())
        let connected = Atomic(false)
    }

    private static let libraryReady: Bool = {
        mosquitto_lib_init()
        return true
    }()

    /// Usage events go to `{topicPrefix}{model}`, e.g. `billing/usage/recorded/gpt-4o-mini`; any
    /// other subject to its NATS name with `/` for `.` (`billing/quota/alert/{org_id}`).
    public init(host: String, port: Int, topicPrefix: String = "billing/usage/recorded/") {
        _ = Self.libraryReady
        self.host = host
        self.port = port
        self.topicPrefix = topicPrefix
    }

    public func publish(recordID: String, subject: String, payload: String) async throws {
        let usagePrefix = "billing.usage.recorded."
        let topic =
            subject.hasPrefix(usagePrefix)
            ? topicPrefix + subject.dropFirst(usagePrefix.count)
            : subject.replacingOccurrences(of: ".", with: "/")
        try await queue.run { try self.publishBlocking(topic: topic, payload: payload) }
    }

    public func close() async {
        try? await queue.run { self.disconnect() }
    }

    private func publishBlocking(topic: String, payload: String) throws {
        let client = try connectIfNeeded()
        let acknowledged = DispatchSemaphore(value: 0)
        var messageID: Int32 = 0
        let bytes = Array(payload.utf8)
        // Registered before publishing, under the lock the callback takes, so a fast PUBACK is not missed.
        let result = acknowledgements.waiters.withLock { waiters -> Int32 in
            let result = bytes.withUnsafeBytes {
                mosquitto_publish(client, &messageID, topic, Int32($0.count), $0.baseAddress, 1, false)
            }
            if result == Int32(MOSQ_ERR_SUCCESS.rawValue) { waiters[messageID] = acknowledged }
            return result
        }
        guard result == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
            let permanent = [MOSQ_ERR_INVAL, MOSQ_ERR_PAYLOAD_SIZE, MOSQ_ERR_MALFORMED_UTF8, MOSQ_ERR_OVERSIZE_PACKET]
                .map { Int32($0.rawValue) }.contains(result)
            if !permanent { disconnect() }
            throw PublishError(
                "MQTT publish failed: \(String(cString: mosquitto_strerror(result)))", permanent: permanent)
        }
        guard acknowledged.wait(timeout: .now() + 5) == .success else {
            acknowledgements.waiters.withLock { _ = $0.removeValue(forKey: messageID) }
            disconnect()
            throw PublishError("MQTT broker at \(host):\(port) did not acknowledge within 5 s")
        }
    }

    private func connectIfNeeded() throws -> OpaquePointer {
        if let client, acknowledgements.connected.load(ordering: .relaxed) { return client }
        disconnect()
        let box = Unmanaged.passUnretained(acknowledgements).toOpaque()
        guard let client = mosquitto_new("model-manager-\(UUID().uuidString.prefix(8))", true, box) else {
            throw PublishError("libmosquitto could not create a client")
        }
        mosquitto_publish_callback_set(client) { _, context, messageID in
            guard let context else { return }
            let box = Unmanaged<AcknowledgementBox>.fromOpaque(context).takeUnretainedValue()
            box.waiters.withLock { $0.removeValue(forKey: messageID) }?.signal()
        }
        mosquitto_disconnect_callback_set(client) { _, context, _ in
            guard let context else { return }
            Unmanaged<AcknowledgementBox>.fromOpaque(context).takeUnretainedValue().connected.store(
                false, ordering: .relaxed)
        }
        let result = mosquitto_connect(client, host, Int32(port), 30)
        guard result == Int32(MOSQ_ERR_SUCCESS.rawValue) else {
            mosquitto_destroy(client)
            throw PublishError(
                "cannot connect to MQTT at \(host):\(port): \(String(cString: mosquitto_strerror(result)))")
        }
        acknowledgements.connected.store(true, ordering: .relaxed)
        mosquitto_loop_start(client)
        self.client = client
        return client
    }

    private func disconnect() {
        guard let client else { return }
        mosquitto_disconnect(client)
        mosquitto_loop_stop(client, true)
        mosquitto_destroy(client)
        self.client = nil
        acknowledgements.connected.store(false, ordering: .relaxed)
    }
}

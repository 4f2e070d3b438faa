internal import CNATS
import Foundation

/// JetStream publishes over libnats, with the record id as `Nats-Msg-Id` so a redelivery within
/// the stream's duplicate window is dropped by the server. libnats blocks until the PubAck, so
/// every call runs on this publisher's own thread, never on a Swift concurrency thread.
public final class NATSPublisher: BillingPublisher, @unchecked Sendable {
    public let sink = "nats"
    private let url: String
    private let streamName: String
    private let duplicateWindow: Duration
    private let queue = BlockingQueue(label: "model-manager.nats-publisher")
    // Touched only on `queue`.
    private var connection: OpaquePointer?
    private var jetStream: OpaquePointer?

    public init(url: String, streamName: String = "BILLING", duplicateWindow: Duration = .seconds(3600)) {
        self.url = url
        self.streamName = streamName
        self.duplicateWindow = duplicateWindow
    }

    public func publish(recordID: String, subject: String, payload: String) async throws {
        try await queue.run { try self.publishBlocking(recordID: recordID, subject: subject, payload: payload) }
    }

    public func close() async {
        try? await queue.run { self.disconnect() }
    }

    private func publishBlocking(recordID: String, subject: String, payload: String) throws {
        let js = try connectIfNeeded()
        var options = jsPubOptions()
        jsPubOptions_Init(&options)
        options.MaxWait = 5000
        var ack: UnsafeMutablePointer<jsPubAck>?
        var errorCode = jsErrCode(0)
        let bytes = Array(payload.utf8)
        let status = recordID.withCString { id in
            options.MsgId = id
            return bytes.withUnsafeBytes {
                js_Publish(&ack, js, subject, $0.baseAddress, Int32($0.count), &options, &errorCode)
            }
        }
        if let ack { jsPubAck_Destroy(ack) }
        guard status == NATS_OK else {
            let permanent = [NATS_INVALID_SUBJECT, NATS_INVALID_ARG, NATS_MAX_PAYLOAD].contains(status)
            if !permanent { disconnect() }
            throw PublishError(
                "NATS publish failed: \(String(cString: natsStatus_GetText(status)))", permanent: permanent)
        }
    }

    /// Connects, gets a JetStream context and makes sure the billing stream exists.
    private func connectIfNeeded() throws -> OpaquePointer {
        if let jetStream { return jetStream }
        var options: OpaquePointer?
        guard natsOptions_Create(&options) == NATS_OK, let options else {
            throw PublishError("NATS options could not be created")
        }
        defer { natsOptions_Destroy(options) }
        natsOptions_SetURL(options, url)
        natsOptions_SetTimeout(options, 2000)
        // Reconnection is the relay's job (with backoff), so a dead broker fails fast here.
        natsOptions_SetAllowReconnect(options, false)
        var connection: OpaquePointer?
        let status = natsConnection_Connect(&connection, options)
        guard status == NATS_OK, let connection else {
            throw PublishError("cannot connect to NATS at \(url): \(String(cString: natsStatus_GetText(status)))")
        }
        var jsOptions = jsOptions()
        jsOptions_Init(&jsOptions)
        jsOptions.Wait = 5000
        var context: OpaquePointer?
        guard natsConnection_JetStream(&context, connection, &jsOptions) == NATS_OK, let context else {
            natsConnection_Destroy(connection)
            throw PublishError("NATS at \(url) has no JetStream")
        }
        self.connection = connection
        jetStream = context
        try ensureStream(context)
        return context
    }

    /// The subjects the billing stream keeps: usage events and quota alerts.
    static let streamSubjects = ["billing.usage.recorded.>", "billing.quota.alert.>"]

    /// Creates the stream, or brings one made by an older version (usage events only) up to
    /// these subjects.
    private func ensureStream(_ context: OpaquePointer) throws {
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        config.Storage = js_FileStorage
        config.Duplicates = Int64(duplicateWindow.components.seconds) * 1_000_000_000
        var info: UnsafeMutablePointer<jsStreamInfo>?
        var errorCode = jsErrCode(0)
        let subjects = Self.streamSubjects.map { strdup($0) }
        defer { subjects.forEach { free($0) } }
        var list = subjects.map { UnsafePointer<CChar>($0) }
        let status = streamName.withCString { name in
            list.withUnsafeMutableBufferPointer { buffer -> natsStatus in
                config.Name = name
                config.Subjects = buffer.baseAddress
                config.SubjectsLen = Int32(buffer.count)
                var status = js_AddStream(&info, context, &config, nil, &errorCode)
                if status != NATS_OK, errorCode == JSStreamNameExistErr {
                    if let info { jsStreamInfo_Destroy(info) }
                    info = nil
                    errorCode = jsErrCode(0)
                    status = js_UpdateStream(&info, context, &config, nil, &errorCode)
                }
                return status
            }
        }
        if let info { jsStreamInfo_Destroy(info) }
        guard status == NATS_OK else {
            disconnect()
            throw PublishError(
                "cannot create the \(streamName) stream on NATS: \(String(cString: natsStatus_GetText(status)))"
                    + (errorCode.rawValue == 0 ? "" : " (JetStream error \(errorCode.rawValue))"))
        }
    }

    private func disconnect() {
        if let jetStream { jsCtx_Destroy(jetStream) }
        if let connection { natsConnection_Destroy(connection) }
        jetStream = nil
        connection = nil
    }
}

import Foundation
import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire

/// What the async and sync clients share: the channel, tokens, metadata and status mapping.
final class ClientCore: Sendable {
    let configuration: ClientConfiguration
    let channel: GRPCChannel
    private let tokens: TokenSource

    enum Method: String {
        case invoke = "/model_service.ModelService/Invoke"
        case batchInvoke = "/model_service.ModelService/BatchInvoke"
        case getTaskStatus = "/model_service.ModelService/GetTaskStatus"
        case batchGetTaskStatus = "/model_service.ModelService/BatchGetTaskStatus"
    }

    init(configuration: ClientConfiguration) {
        self.configuration = configuration
        tokens = TokenSource(configuration: configuration)
        channel = GRPCChannel(
            configuration: .init(target: configuration.serverAddress, tls: configuration.useTLS ? configuration.tls : nil))
    }

    /// A call with its metadata: `x-request-id` (the caller's id or a new one),
    /// `x-origin-request-id` when the caller gave one, and `authorization`.
    func prepare(_ method: Method, requestID: String?, orgID: String, userID: String, timeout: Duration?) -> (ClientCall, Metadata) {
        var metadata = Metadata()
        metadata.append("x-request-id", requestID ?? UUID().uuidString.lowercased())
        if let requestID { metadata.append("x-origin-request-id", requestID) }
        if let authorization = tokens.authorization(orgID: orgID, userID: userID) {
            metadata.append("authorization", authorization)
        }
        return (channel.makeCall(path: method.rawValue, timeout: timeout ?? configuration.timeout), metadata)
    }

    /// The outcome of a call that should have answered one message.
    static func reply(_ message: ReceivedMessage?, status: GRPCStatus) throws(ModelManagerError) -> ReceivedMessage {
        guard status.isOK else { throw error(status) }
        guard let message else { throw ModelManagerError(.internalError, "the server ended the call without an answer") }
        return message
    }

    static func error(_ status: GRPCStatus) -> ModelManagerError {
        ModelManagerError(ModelManagerError.Code(grpcStatus: status.code), status.message.isEmpty ? status.codeName : status.message)
    }

    static func decodeItem(_ message: ReceivedMessage) throws(ModelManagerError) -> ModelResponse {
        ModelResponse(try message.withUnsafeBytes { buffer throws(ModelManagerError) in try ModelServiceCodec.decodeResponseItem(buffer) })
    }

    static func decodeBatch(_ message: ReceivedMessage) throws(ModelManagerError) -> BatchModelResponse {
        let (requestID, items) = try message.withUnsafeBytes { buffer throws(ModelManagerError) in try ModelServiceCodec.decodeBatchResponse(buffer) }
        return BatchModelResponse(requestID: requestID, responses: items.map(ModelResponse.init))
    }

    static func decodeTask(_ message: ReceivedMessage) throws(ModelManagerError) -> TaskStatus {
        TaskStatus(try message.withUnsafeBytes { buffer throws(ModelManagerError) in try TaskStatusCodec.decodeResponse(buffer) })
    }

    /// A request as sent: `stream` set as the call asks.
    static func encode(_ request: ModelRequest, stream: Bool) -> EncodedMessage {
        var request = request
        request.stream = stream
        return ModelServiceCodec.encodeRequestItem(request)
    }
}

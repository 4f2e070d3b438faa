import ModelManagerCore
import ModelManagerGRPC
import ModelManagerWire

/// The standard `grpc.health.v1.Health` service (Check and Watch).
struct HealthHandlers: Sendable {
    let serving: ServingState
    /// Services this server reports on; "" is the server as a whole.
    let services: Set<String>

    var methods: [String: ServerMethodHandler] {
        ["/grpc.health.v1.Health/Check": check, "/grpc.health.v1.Health/Watch": watch]
    }

    private func status(of service: String) -> HealthCodec.ServingStatus {
        guard services.contains(service) else { return .serviceUnknown }
        return serving.isServing ? .serving : .notServing
    }

    @Sendable func check(_ call: ServerCall) async {
        guard let service = await readService(call) else { return }
        guard services.contains(service) else {
            await call.finish(GRPCStatus(code: .notFound, message: "unknown service '\(service)'"))
            return
        }
        await call.finish(sending: OutgoingMessage(HealthCodec.encodeResponse(status(of: service))))
    }

    /// Sends the current status, then again when it changes, until the peer leaves.
    @Sendable func watch(_ call: ServerCall) async {
        guard let service = await readService(call) else { return }
        let initial = status(of: service)
        guard await call.send(OutgoingMessage(HealthCodec.encodeResponse(initial))) else { return }
        guard initial == .serving else {
            await call.finish(.ok)
            return
        }
        await serving.waitUntilStopped()
        if call.isCancelled {
            await call.finish(GRPCStatus(code: .cancelled, message: "cancelled"))
            return
        }
        await call.send(OutgoingMessage(HealthCodec.encodeResponse(.notServing)))
        await call.finish(.ok)
    }

    private func readService(_ call: ServerCall) async -> String? {
        guard let message = await call.receiveMessage() else {
            await call.finish(GRPCStatus(code: .invalidArgument, message: "the call carried no request message"))
            return nil
        }
        do {
            return try message.withUnsafeBytes { buffer throws(ModelManagerError) in
                try HealthCodec.decodeRequest(buffer)
            }
        } catch {
            await call.finish(GRPCStatus(code: .invalidArgument, message: error.message))
            return nil
        }
    }
}

import Hummingbird
import NIOCore

/// The HTTP face's request context: Hummingbird's, plus the peer's address for the audit log.
struct FaceContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, as the audit log records it.
    var peer: String? { remoteAddress?.ipAddress }
}

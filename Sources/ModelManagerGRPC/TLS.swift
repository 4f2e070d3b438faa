internal import CGRPC
public import ModelManagerCore

/// A server's certificate chain and private key, PEM encoded.
public struct TLSServerConfiguration: Sendable {
    public var certificateChainPEM: String
    public var privateKeyPEM: Secret

    public init(certificateChainPEM: String, privateKeyPEM: Secret) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// Consumed by `grpc_server_add_http2_port`.
    func makeCredentials() -> OpaquePointer {
        certificateChainPEM.withCString { chain in
            privateKeyPEM.revealed.withCString { key in
                var pair = grpc_ssl_pem_key_cert_pair(private_key: key, cert_chain: chain)
                return grpc_ssl_server_credentials_create(nil, &pair, 1, 0, nil)
            }
        }
    }
}

/// How a client channel verifies the server: the trusted roots (nil: the system's) and
/// optionally the name to expect in the server's certificate.
public struct TLSClientConfiguration: Sendable {
    public var trustRootsPEM: String?
    public var serverNameOverride: String?

    public init(trustRootsPEM: String? = nil, serverNameOverride: String? = nil) {
        self.trustRootsPEM = trustRootsPEM
        self.serverNameOverride = serverNameOverride
    }

    func makeCredentials() -> OpaquePointer {
        if let trustRootsPEM {
            return trustRootsPEM.withCString { grpc_ssl_credentials_create($0, nil, nil, nil) }
        }
        return grpc_ssl_credentials_create(nil, nil, nil, nil)
    }
}

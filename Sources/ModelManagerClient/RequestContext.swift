/// The origin request id of the work in progress, carried to every call made inside it, like
/// the Python SDK's `set_origin_request_id`.
public enum ModelManagerRequestContext {
    @TaskLocal public static var originRequestID: String?
}

/// Runs `body` with `originRequestID` as the origin of every call it makes.
public func withOriginRequestID<Result>(_ originRequestID: String, _ body: () async throws -> Result) async rethrows
    -> Result
{
    try await ModelManagerRequestContext.$originRequestID.withValue(originRequestID) { try await body() }
}

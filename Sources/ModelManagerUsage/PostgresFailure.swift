import PostgresNIO

/// A PostgreSQL failure told in a line: the server's SQLSTATE and message, or the client's error
/// code. PostgresNIO's own errors describe the whole statement with every placeholder, which for a
/// batch insert is tens of kilobytes in each log line.
public struct PostgresFailure: Error, CustomStringConvertible {
    public let description: String
    /// The server's SQLSTATE, when the server answered.
    public let sqlState: String?

    /// Data exceptions (22), integrity constraints (23) and program limits (54, a value too
    /// large): the statement's rows are at fault, not the server's state.
    var refusesRows: Bool { sqlState.map { ["22", "23", "54"].contains($0.prefix(2)) } ?? false }

    static func translating<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            if let unmatched = error.closureError as? SQLRowsRequired { throw unmatched }
            throw PostgresFailure(error.closureError ?? error.commitError ?? error.beginError ?? error)
        } catch let error as PSQLError {
            throw PostgresFailure(error)
        }
    }

    /// A failure found before the statement was sent.
    init(description: String, sqlState: String?) {
        self.description = "PostgreSQL: \(description.prefix(Self.maximumLength))"
        self.sqlState = sqlState
    }

    private init(_ error: any Error) {
        sqlState = (error as? PSQLError)?.serverInfo?[.sqlState]
        guard let error = error as? PSQLError else {
            description = "PostgreSQL: \(String(describing: error).prefix(Self.maximumLength))"
            return
        }
        if let info = error.serverInfo, let message = info[.message] {
            description = "PostgreSQL \(sqlState ?? "?"): \(message.prefix(Self.maximumLength))"
        } else {
            description = "PostgreSQL client: \(error.code)"
        }
    }

    static let maximumLength = 512
}

public import Logging
public import ServiceLifecycle

/// Runs `services` in one ServiceGroup while `body` runs, then shuts them down gracefully (in
/// reverse order, as the server's group does) and waits until they have stopped. For tools and
/// tests that use a part outside the server: the ledger, the relay, a PostgreSQL database.
public func withRunningServices<Value>(
    _ services: [any Service], logger: Logger, _ body: () async throws -> Value
) async throws -> Value {
    guard !services.isEmpty else { return try await body() }
    let group = ServiceGroup(configuration: .init(services: services, logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { running in
        running.addTask { try await group.run() }
        let value: Value
        do {
            value = try await body()
        } catch {
            await group.triggerGracefulShutdown()
            try? await running.waitForAll()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await running.waitForAll()
        return value
    }
}

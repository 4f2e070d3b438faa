import Foundation
import Logging
import ModelManagerCore
import ModelManagerUsage
import ServiceLifecycle
import Synchronization

/// How refused calls are gathered before they are written.
public struct AuditSettings: Sendable {
    public var flushInterval: Duration = .seconds(5)
    /// Distinct (credential, org, status, minute) counts held between flushes; past it, the rest
    /// are counted under the credential `(others)`.
    public var maximumPendingDenials = 10_000

    public init() {}
}

/// Puts administrative acts and refused calls on record. Acts are written as they happen; refused
/// calls are counted per credential, org, status and minute and written as one entry each when
/// `flushInterval` passes (and at shutdown), so a flood of refusals is a few rows, not one each.
final class Auditor: Service {
    typealias Settings = AuditSettings

    let log: AuditLog
    private let settings: Settings
    private let logger: Logger
    private let denials = Mutex<[Denial: Int]>([:])

    private struct Denial: Hashable {
        var credential: String
        var orgID: String?
        var code: String
        var minute: Int64
        var address: String?
    }

    init(log: AuditLog, settings: Settings, logger: Logger) {
        self.log = log
        self.settings = settings
        self.logger = logger
    }

    /// Writes an act; a failure is logged (the act is done already) and never reaches the caller.
    func record(_ entry: AuditEntry) async {
        do {
            try await log.append([entry])
        } catch {
            logger.error(
                "audit entry not written",
                metadata: ["action": "\(entry.action)", "actor": "\(entry.actor)", "error": "\(error)"])
        }
    }

    /// Counts a refused call (authentication, permission, quota or rate limit).
    func denied(credential: String, orgID: String?, error: ModelManagerError, address: String? = nil) {
        let minute = Int64(Date().timeIntervalSince1970 / 60)
        denials.withLock { denials in
            var key = Denial(
                credential: credential, orgID: orgID, code: "\(error.code)", minute: minute, address: address)
            if denials[key] == nil, denials.count >= settings.maximumPendingDenials {
                key = Denial(credential: "(others)", orgID: nil, code: "\(error.code)", minute: minute, address: nil)
            }
            denials[key, default: 0] += 1
        }
    }

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            // Woken by the graceful stop too, so that the last counts are written at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.settings.flushInterval) }
            await flush()
        }
        await flush()
    }

    func flush() async {
        let pending = denials.withLock { denials in
            defer { denials = [:] }
            return denials
        }
        guard !pending.isEmpty else { return }
        let entries = pending.map { denial, count in
            AuditEntry(
                actor: denial.credential, action: "call.denied", target: denial.code, orgID: denial.orgID,
                details: [
                    "count": .integer(Int64(count)),
                    "minute": .string(Date(timeIntervalSince1970: Double(denial.minute * 60)).formatted(.iso8601)),
                ], address: denial.address)
        }
        do {
            try await log.append(entries)
        } catch {
            // Counted again with what arrives meanwhile, and written at the next flush.
            logger.error("refused calls not yet written to the audit log", metadata: ["error": "\(error)"])
            denials.withLock { denials in denials.merge(pending) { $0 + $1 } }
        }
    }
}

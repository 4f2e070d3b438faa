import ModelManagerCore
import Synchronization

/// Round-robin over an upstream's credentials (and deployments), with a cool-down for the ones
/// that answered 429 or 5xx. Shared state, so one lock held for a few comparisons.
public final class CredentialPool: Sendable {
    struct TargetID: Hashable {
        var baseURL: String
        var credential: Credential
        var deployment: String?
        init(_ target: UpstreamTarget) {
            baseURL = target.baseURL
            credential = target.credential
            deployment = target.deployment
        }
    }

    private struct State {
        var rotation: [[TargetID]: Int] = [:]
        var coolingUntil: [TargetID: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())
    /// How long a failing credential is skipped when the upstream did not say (Retry-After).
    public let cooldown: Duration

    public init(cooldown: Duration = .seconds(30)) { self.cooldown = cooldown }

    /// `targets` rotated to the next starting point, those cooling down moved to the end.
    func order(_ targets: [UpstreamTarget]) -> [UpstreamTarget] {
        guard targets.count > 1 else { return targets }
        let ids = targets.map(TargetID.init)
        let now = ContinuousClock.now
        return state.withLock { state in
            let start = state.rotation[ids, default: 0] % targets.count
            state.rotation[ids] = start + 1
            let rotated = Array(targets[start...] + targets[..<start])
            let cooling = state.coolingUntil
            let isCooling = { (target: UpstreamTarget) in (cooling[TargetID(target)] ?? now) > now }
            return rotated.filter { !isCooling($0) } + rotated.filter(isCooling)
        }
    }

    /// Skips `target` for `duration` (or the default cool-down).
    func coolDown(_ target: UpstreamTarget, for duration: Duration?) {
        let until = ContinuousClock.now + (duration ?? cooldown)
        state.withLock { $0.coolingUntil[TargetID(target)] = until }
    }
}

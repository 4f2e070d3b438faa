public import Foundation
import ModelManagerAuth
public import ModelManagerCore
package import ModelManagerUsage
import Synchronization

/// Which answers are cached, for how long, and how much memory the cache may hold.
public struct CacheSettings: Sendable {
    /// The cache's bound: the least recently used answers leave first past it.
    public var maximumBytes = 64 << 20
    /// The time to live of an answer cached on request (`extra.cache` without `ttl`).
    public var defaultTTL: Duration = .seconds(300)
    /// Routes whose answers are cached without being asked, with their TTL: `provider/invoke_type`
    /// (`openai/chat-completions`) or `provider/*`.
    public var routes: [String: Duration] = [:]
    /// Orgs whose answers are cached without being asked, with their TTL.
    public var orgs: [String: Duration] = [:]
    /// Also keep answers in the ledger's PostgreSQL, for every instance on it (exact matches).
    public var shared = false
    /// The embeddings route of the semantic cache; nil: no semantic cache.
    public var semantic: SemanticCacheSettings?

    public init() {}
}

/// How the semantic cache embeds a prompt and when two prompts are the same question.
public struct SemanticCacheSettings: Sendable {
    public var provider: Provider
    public var channel: Channel
    public var model: String
    /// Asked of models that can shorten their vectors (OpenAI's text-embedding-3); nil: native.
    public var dimensions: Int?
    /// The least cosine similarity of a hit.
    public var threshold = 0.95
    /// Every cached call looks up semantically, not only those whose `cache` asks (`semantic: true`).
    public var byDefault = false

    public init(provider: Provider, channel: Channel, model: String) {
        self.provider = provider
        self.channel = channel
        self.model = model
    }
}

/// Exact-match answer cache, in process: a request whose canonical form (provider, channel,
/// invoke type, org and every parameter, keys sorted) was answered within its TTL is answered
/// again without an upstream call; a stream is replayed as the chunks it first came in. Off
/// unless a route or org is configured for it or the request asks (`extra.cache: {"ttl": s}`,
/// never sent upstream); a configured route or org never caches a call with `temperature`
/// above 0, which only the request itself can ask for. Bounded by bytes, least recently used
/// first out.
public final class ResponseCache: Sendable {
    /// An answer as it is replayed.
    package struct Answer: Sendable {
        /// The deltas a stream brought, in order (empty for a non-stream answer).
        package var deltas: [String]
        package var completion: ResponseChunk

        package init(deltas: [String], completion: ResponseChunk) {
            self.deltas = deltas
            self.completion = completion
        }
    }

    /// What a request may do with the cache: its key and the TTL for a new entry; for a semantic
    /// lookup, the text to embed and the bucket of requests that differ from it in that text only.
    package struct Policy: Sendable {
        var key: String
        var ttl: Duration
        var semantic: (text: String, bucket: String)?

        package init(key: String, ttl: Duration, semantic: (text: String, bucket: String)? = nil) {
            self.key = key
            self.ttl = ttl
            self.semantic = semantic
        }
    }

    final class Entry: @unchecked Sendable {
        let key: String
        let answer: Answer
        let bytes: Int
        let expires: ContinuousClock.Instant
        /// The semantic bucket whose matrix holds the prompt's vector, if any.
        let bucket: String?
        // The recency list, touched only under the cache's lock.
        var newer: Entry?
        var older: Entry?

        init(
            key: String, answer: Answer, bytes: Int, expires: ContinuousClock.Instant, bucket: String?
        ) {
            self.key = key
            self.answer = answer
            self.bytes = bytes
            self.expires = expires
            self.bucket = bucket
        }
    }

    private struct State: @unchecked Sendable {
        var entries: [String: Entry] = [:]
        /// The vectors of entries that have one, per bucket.
        var buckets: [String: VectorBucket<Entry>] = [:]
        var newest: Entry?
        var oldest: Entry?
        var bytes = 0
    }

    public struct Counters: Sendable, Hashable {
        public var hits = 0
        public var semanticHits = 0
        public var misses = 0
        public var stored = 0
        public var evicted = 0
        public var bytes = 0
        public var entries = 0

        var json: JSONValue {
            [
                "hits": .integer(Int64(hits)), "semantic_hits": .integer(Int64(semanticHits)),
                "misses": .integer(Int64(misses)), "stored": .integer(Int64(stored)),
                "evicted": .integer(Int64(evicted)), "bytes": .integer(Int64(bytes)),
                "entries": .integer(Int64(entries)),
            ]
        }
    }

    let settings: CacheSettings
    private let state = Mutex(State())
    private let counts = Mutex(Counters())

    /// The tier in the ledger's PostgreSQL, when `settings.shared`.
    private let shared: SharedCacheStore?
    private let sharedWrites = Atomic<Int>(0)
    /// Expired shared answers are deleted (a batch of this many) every this many writes.
    static let sharedPruneEvery = 100
    static let sharedPruneBatch = 1000

    package init(settings: CacheSettings, shared: SharedCacheStore? = nil) {
        self.settings = settings
        self.shared = shared
    }

    /// After a miss here, the answer another instance stored; it is kept here too for what
    /// is left of its TTL.
    func lookupShared(_ key: String) async throws -> Answer? {
        guard let shared, let found = try await shared.answer(key: key) else { return nil }
        let json = try JSONValue(parsing: found.answer)
        let answer = Answer(
            deltas: json["deltas"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            completion: TaskQueue.completion(json["completion"] ?? [:]))
        if let ttl = Duration.clampedSeconds(found.expires.timeIntervalSinceNow), ttl > .zero {
            store(answer, policy: Policy(key: key, ttl: ttl))
        }
        counts.withLock { $0.hits += 1 }
        return answer
    }

    /// Writes an answer to the shared tier (and now and then deletes expired ones).
    func storeShared(_ answer: Answer, policy: Policy, orgID: String) async throws {
        guard let shared else { return }
        let json: JSONValue = [
            "deltas": .array(answer.deltas.map { .string($0) }), "completion": TaskQueue.result(answer.completion),
        ]
        try await shared.store(
            key: policy.key, orgID: orgID, answer: json.jsonText,
            expires: Date().addingTimeInterval(policy.ttl.milliseconds / 1000))
        if sharedWrites.add(1, ordering: .relaxed).newValue % Self.sharedPruneEvery == 0 {
            _ = try await shared.prune(limit: Self.sharedPruneBatch)
        }
    }

    package var counters: Counters {
        let (bytes, entries) = state.withLock { ($0.bytes, $0.entries.count) }
        var counters = counts.withLock { $0 }
        counters.bytes = bytes
        counters.entries = entries
        return counters
    }

    /// Whether and how `request` uses the cache; nil when it does not.
    func policy(for request: ModelRequest) throws(ModelManagerError) -> Policy? {
        let asked = request.extra["cache"]
        let ttl: Duration
        if let asked, !asked.isNull {
            guard asked.boolValue != false else { return nil }
            let seconds = asked["ttl"]
            if let seconds, seconds.doubleValue == nil || seconds.doubleValue! < 0 {
                throw ModelManagerError(
                    .invalidArgument, "cache.ttl must be a number of seconds (0: do not cache), got \(seconds.jsonText)"
                )
            }
            guard asked.boolValue == true || asked.objectValue != nil else {
                throw ModelManagerError(
                    .invalidArgument,
                    "cache must be an object such as {\"ttl\": 60}, or a boolean, got \(asked.jsonText)")
            }
            ttl =
                seconds?.doubleValue.flatMap { Duration.clampedSeconds($0) } ?? configuredTTL(request)
                ?? settings.defaultTTL
        } else {
            guard let configured = configuredTTL(request), !Self.isRandom(request) else { return nil }
            ttl = configured
        }
        guard ttl > .zero else { return nil }
        var policy = Policy(key: Self.key(request), ttl: ttl)
        let semanticAsked = asked?["semantic"]?.boolValue ?? settings.semantic?.byDefault ?? false
        if semanticAsked, settings.semantic != nil, let text = Self.promptText(request) {
            policy.semantic = (text, Self.key(request, without: Self.promptKeys))
        }
        return policy
    }

    /// Where a route keeps the prompt: what the semantic cache embeds.
    static let promptKeys = ["messages", "contents", "input", "prompt", "system", "instructions"]

    /// The prompt's text: every string under the prompt keys that is a message's content or text.
    static func promptText(_ request: ModelRequest) -> String? {
        var parts: [String] = []
        func collect(_ value: JSONValue, named name: String?) {
            switch value {
            case .string(let text) where name == nil || name == "content" || name == "text": parts.append(text)
            case .array(let items): for item in items { collect(item, named: name == "parts" ? nil : name) }
            case .object(let members):
                for key in members.keys.sorted() { collect(members[key]!, named: key) }
            default: break
            }
        }
        for key in promptKeys { if let value = request.extra[key] { collect(value, named: nil) } }
        let text = parts.joined(separator: "\n")
        return text.isEmpty ? nil : text
    }

    /// The answer stored under `key`, if it has not expired; it becomes the most recent.
    func lookup(_ key: String) -> Answer? {
        let now = ContinuousClock.now
        let answer = state.withLock { state -> Answer? in
            guard let entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                Self.remove(entry, from: &state)
                return nil
            }
            Self.unlink(entry, from: &state)
            Self.pushNewest(entry, into: &state)
            return entry.answer
        }
        if answer != nil { counts.withLock { $0.hits += 1 } }
        return answer
    }

    /// The answer of the cached prompt in `bucket` most similar to `vector` (a unit vector), if
    /// its cosine similarity reaches the threshold. The bucket is scanned under its own lock only.
    package func nearest(_ vector: [Float], in bucket: String, threshold: Double) -> (
        answer: Answer, similarity: Double
    )? {
        let now = ContinuousClock.now
        guard let rows = state.withLock({ $0.buckets[bucket] }),
            let best = rows.nearest(vector, accept: { $0.expires > now }), Double(best.similarity) >= threshold
        else { return nil }
        let alive = state.withLock { state -> Bool in
            guard state.entries[best.item.key] === best.item else { return false }
            Self.unlink(best.item, from: &state)
            Self.pushNewest(best.item, into: &state)
            return true
        }
        guard alive else { return nil }
        counts.withLock { $0.semanticHits += 1 }
        return (best.item.answer, Double(best.similarity))
    }

    /// Every tier missed: the call goes upstream.
    func missed() { counts.withLock { $0.misses += 1 } }

    /// `vector` as a unit vector (nil for a zero vector).
    package static func unit(_ vector: [Double]) -> [Float]? {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return nil }
        return vector.map { Float($0 / norm) }
    }

    package func store(_ answer: Answer, policy: Policy, vector: [Float]? = nil) {
        let bytes =
            (vector?.count ?? 0) * 4 + (policy.semantic?.bucket.utf8.count ?? 0)
            + policy.key.utf8.count + answer.completion.content.utf8.count
            + (answer.completion.rawResponse?.text.utf8.count ?? 0)
            + answer.deltas.reduce(0) { $0 + $1.utf8.count + 16 }
            + 256
        guard bytes <= settings.maximumBytes else { return }
        let bucket = vector == nil ? nil : policy.semantic?.bucket
        let entry = Entry(
            key: policy.key, answer: answer, bytes: bytes, expires: .now + policy.ttl, bucket: bucket)
        let evicted = state.withLock { state -> Int in
            if let old = state.entries[policy.key] { Self.remove(old, from: &state) }
            var evicted = 0
            while state.bytes + bytes > settings.maximumBytes, let oldest = state.oldest {
                Self.remove(oldest, from: &state)
                evicted += 1
            }
            state.entries[policy.key] = entry
            if let bucket, let vector {
                let rows = state.buckets[bucket] ?? VectorBucket<Entry>()
                state.buckets[bucket] = rows
                rows.add(vector, for: policy.key, item: entry)
            }
            state.bytes += bytes
            Self.pushNewest(entry, into: &state)
            return evicted
        }
        counts.withLock {
            $0.stored += 1
            $0.evicted += evicted
        }
    }

    private func configuredTTL(_ request: ModelRequest) -> Duration? {
        guard !settings.orgs.isEmpty || !settings.routes.isEmpty else { return nil }
        return settings.orgs[request.orgID] ?? settings.routes[
            "\(request.provider.rawValue)/\(request.invokeType.rawValue)"]
            ?? settings.routes["\(request.provider.rawValue)/*"]
    }

    /// A sampling temperature above 0, wherever the route keeps it.
    static func isRandom(_ request: ModelRequest) -> Bool {
        let temperature =
            request.extra["temperature"]?.doubleValue ?? request.extra["generationConfig"]?["temperature"]?.doubleValue
            ?? request.extra["config"]?["temperature"]?.doubleValue
        return (temperature ?? 0) > 0
    }

    /// The canonical form's digest: what the answer depends on, and nothing else (less `without`).
    static func key(_ request: ModelRequest, without: [String] = []) -> String {
        var parameters = request.extra
        for ignored in ["cache", "stream", "stream_options"] + TaskQueue.taskKeys + without {
            parameters[ignored] = nil
        }
        let canonical: JSONValue = [
            "provider": .string(request.provider.rawValue), "channel": .string(request.channel.rawValue),
            "invoke_type": .string(request.invokeType.rawValue), "org_id": .string(request.orgID),
            "parameters": .object(parameters),
        ]
        return Digest.sha256Hex(canonical.jsonText)
    }

    private static func remove(_ entry: Entry, from state: inout State) {
        unlink(entry, from: &state)
        state.entries[entry.key] = nil
        if let bucket = entry.bucket {
            if let rows = state.buckets[bucket] {
                rows.remove(entry.key)
                if rows.isEmpty { state.buckets[bucket] = nil }
            }
        }
        state.bytes -= entry.bytes
    }

    private static func unlink(_ entry: Entry, from state: inout State) {
        if let newer = entry.newer { newer.older = entry.older } else { state.newest = entry.older }
        if let older = entry.older { older.newer = entry.newer } else { state.oldest = entry.newer }
        entry.newer = nil
        entry.older = nil
    }

    private static func pushNewest(_ entry: Entry, into state: inout State) {
        entry.older = state.newest
        state.newest?.newer = entry
        state.newest = entry
        if state.oldest == nil { state.oldest = entry }
    }
}

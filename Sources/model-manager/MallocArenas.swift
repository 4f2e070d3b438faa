internal import CMalloc
import Foundation

/// glibc gives a thread that meets lock contention a malloc arena of its own (up to 8 per core),
/// and memory freed in one arena is seldom returned to the system: under bursts of streams the
/// server's RSS stepped up and stayed there. With the arenas capped at the core count (at least
/// 2) a 1,000-stream soak stayed flat after its first minute (Benchmarks/soak). An operator's
/// `MALLOC_ARENA_MAX` wins.
enum MallocArenas {
    static func limit(environment: [String: String]) {
        guard environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
    }
}

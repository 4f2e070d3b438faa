import ArgumentParser
internal import CMalloc
import Dispatch
import Foundation

/// glibc's allocator, tuned for a long-running server whose load comes in bursts.
///
/// glibc gives a thread that meets lock contention a malloc arena of its own (up to 8 per core),
/// and keeps memory freed in an arena for reuse rather than returning it: after a burst of
/// streams the server's RSS stayed at the burst's high-water mark. Arenas are capped at the core
/// count (at least 2; an operator's `MALLOC_ARENA_MAX` wins), and every
/// `MODEL_MANAGER_MALLOC_TRIM_SECONDS` (default 60, 0: never) what is free goes back to the system
/// (`malloc_trim`), on a Dispatch utility thread, never on a request's.
final class MallocTuning: Sendable {
    nonisolated(unsafe) private let timer: (any DispatchSourceTimer)?

    init(environment: [String: String]) throws {
        if environment["MALLOC_ARENA_MAX"] == nil {
            _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        }
        let text = environment["MODEL_MANAGER_MALLOC_TRIM_SECONDS"] ?? "60"
        guard let seconds = Int(text), seconds >= 0 else {
            throw ValidationError(
                "MODEL_MANAGER_MALLOC_TRIM_SECONDS must be a whole number of seconds (0: never), got '\(text)'")
        }
        guard seconds > 0 else {
            timer = nil
            return
        }
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        timer.schedule(deadline: .now() + .seconds(seconds), repeating: .seconds(seconds))
        timer.setEventHandler { _ = malloc_trim(0) }
        timer.resume()
        self.timer = timer
    }

    deinit { timer?.cancel() }
}

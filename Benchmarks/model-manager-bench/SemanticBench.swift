import Foundation
import ModelManagerCore
import ModelManagerServer

/// `--semantic`: the semantic cache's lookup (cosine similarity against every prompt cached for
/// the same org, model and parameters) at 10 k and 100 k entries, for 256- and 1536-dimension
/// vectors; p50 and p99 in ms over 50 lookups.
enum SemanticBench {
    static func run() {
        print("semantic lookup, one bucket, 50 lookups each; ms")
        print("entries   dims      p50      p99   cache MB")
        var generator = SystemRandomNumberGenerator()
        func randomUnit(_ dimensions: Int) -> [Float] {
            ResponseCache.unit((0..<dimensions).map { _ in Double.random(in: -1...1, using: &generator) }) ?? []
        }
        for dimensions in [256, 1536] {
            for count in [10_000, 100_000] {
                var settings = CacheSettings()
                settings.maximumBytes = 4 << 30
                let cache = ResponseCache(settings: settings)
                for index in 0..<count {
                    cache.store(
                        ResponseCache.Answer(deltas: [], completion: ResponseChunk(content: "answer \(index)")),
                        policy: ResponseCache.Policy(
                            key: "key-\(index)", ttl: .seconds(3600), semantic: (text: "", bucket: "bucket")),
                        vector: randomUnit(dimensions))
                }
                var samples: [Double] = []
                for _ in 0..<50 {
                    let probe = randomUnit(dimensions)
                    let start = ContinuousClock.now
                    _ = cache.nearest(probe, in: "bucket", threshold: 0.95)
                    samples.append((ContinuousClock.now - start).milliseconds)
                }
                samples.sort()
                print(
                    String(
                        format: "%7d  %5d  %7.2f  %7.2f  %9.1f", count, dimensions, samples[25], samples[49],
                        Double(cache.counters.bytes) / 1_048_576))
            }
        }
    }
}

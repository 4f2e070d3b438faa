import Synchronization

/// The vectors of one semantic-cache bucket (same org, route, model and parameters), in one
/// contiguous row-major matrix, so a lookup is a straight SIMD scan of memory. It has its own
/// lock: a scan holds up only changes to this bucket, never the rest of the cache.
final class VectorBucket<Item: AnyObject & Sendable>: Sendable {
    private struct Rows {
        var dimensions = 0
        var matrix: [Float] = []
        var items: [Item] = []
        var keys: [String] = []
        var positions: [String: Int] = [:]
    }

    private let rows = Mutex(Rows())

    var isEmpty: Bool { rows.withLock { $0.items.isEmpty } }

    /// Adds (or replaces) `key`'s row; a vector of another length than the bucket's is not added.
    func add(_ vector: [Float], for key: String, item: Item) {
        rows.withLock { rows in
            if rows.items.isEmpty { rows.dimensions = vector.count }
            guard vector.count == rows.dimensions else { return }
            if let position = rows.positions[key] {
                rows.matrix.replaceSubrange(position * rows.dimensions..<(position + 1) * rows.dimensions, with: vector)
                rows.items[position] = item
                return
            }
            rows.positions[key] = rows.items.count
            rows.matrix += vector
            rows.items.append(item)
            rows.keys.append(key)
        }
    }

    /// Removes `key`'s row by moving the last row into its place.
    func remove(_ key: String) {
        rows.withLock { rows in
            guard let position = rows.positions.removeValue(forKey: key) else { return }
            let last = rows.items.count - 1
            let width = rows.dimensions
            if position != last {
                for column in 0..<width { rows.matrix[position * width + column] = rows.matrix[last * width + column] }
                rows.items[position] = rows.items[last]
                rows.keys[position] = rows.keys[last]
                rows.positions[rows.keys[position]] = position
            }
            rows.matrix.removeLast(width)
            rows.items.removeLast()
            rows.keys.removeLast()
        }
    }

    /// The item whose row has the largest dot product with `vector` among those `accept`s, and
    /// that product.
    func nearest(_ vector: [Float], accept: (Item) -> Bool) -> (item: Item, similarity: Float)? {
        rows.withLock { rows -> (item: Item, similarity: Float)? in
            guard vector.count == rows.dimensions else { return nil }
            var best: (item: Item, similarity: Float)?
            rows.matrix.withUnsafeBufferPointer { matrix in
                vector.withUnsafeBufferPointer { probe in
                    for row in 0..<rows.items.count {
                        let similarity = Self.dot(matrix, from: row * rows.dimensions, probe)
                        if similarity > best?.similarity ?? -2, accept(rows.items[row]) {
                            best = (rows.items[row], similarity)
                        }
                    }
                }
            }
            return best
        }
    }

    /// Eight lanes at a time: a plain loop's sum cannot be reordered, so it is not vectorised.
    static func dot(_ matrix: UnsafeBufferPointer<Float>, from start: Int, _ probe: UnsafeBufferPointer<Float>) -> Float
    {
        var lanes = SIMD8<Float>()
        var index = 0
        while index + 8 <= probe.count {
            lanes += SIMD8(matrix[start + index..<start + index + 8]) * SIMD8(probe[index..<index + 8])
            index += 8
        }
        var sum = lanes.sum()
        while index < probe.count {
            sum += matrix[start + index] * probe[index]
            index += 1
        }
        return sum
    }
}

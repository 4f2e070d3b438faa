package import NIOCore
package import NIOHTTP1

/// An upstream's answer: its head at once, its body as it arrives.
package struct UpstreamResponse: Sendable {
    package let status: Int
    package let headers: HTTPHeaders
    package let body: UpstreamBody
}

/// The body's buffers in arrival order. Reading pauses on the connection while more than a few
/// buffers wait here, so a slow caller never makes the gateway hold a fast upstream's whole answer.
package struct UpstreamBody: AsyncSequence, Sendable {
    package typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, UpstreamBodyDemand
    >

    let producer: Producer

    package struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator
        package mutating func next() async throws -> ByteBuffer? { try await base.next() }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: producer.makeAsyncIterator()) }

    /// The whole body, refused past `limit` bytes.
    package func collect(upTo limit: Int) async throws -> ByteBuffer {
        var iterator = makeAsyncIterator()
        guard var whole = try await iterator.next() else { return ByteBuffer() }
        while var next = try await iterator.next() {
            guard whole.readableBytes + next.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
            whole.writeBuffer(&next)
        }
        guard whole.readableBytes <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
        return whole
    }
}

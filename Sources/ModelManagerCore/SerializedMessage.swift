/// A message that knows its encoded size and writes itself into a buffer: how the Wire
/// layer hands messages to the gRPC layer without either importing the other.
public protocol SerializedMessage {
    var byteCount: Int { get }
    /// Writes exactly `byteCount` bytes.
    func write(into buffer: UnsafeMutableRawBufferPointer)
}

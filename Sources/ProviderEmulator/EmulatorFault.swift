import Foundation

/// Fault injection for one request, from the `x-emulator-fault` header:
/// `status=503`, `retry-after=2`, `delay-ms=300`, `chunk-delay-ms=50`, `truncate-after=2`,
/// separated by `;` or `,`. Callers of the gateway set it through `extra.extra_headers`,
/// which adapters forward as the OpenAI SDK does.
struct EmulatorFault {
    var status: Int?
    var retryAfter: String?
    var delayMilliseconds = 0
    var chunkDelayMilliseconds = 0
    var truncateAfterChunks: Int?

    static let headerName = "x-emulator-fault"

    init(header: String?) {
        guard let header else { return }
        for part in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { continue }
            switch pair[0] {
            case "status": status = Int(pair[1])
            case "retry-after": retryAfter = pair[1]
            case "delay-ms": delayMilliseconds = Int(pair[1]) ?? 0
            case "chunk-delay-ms": chunkDelayMilliseconds = Int(pair[1]) ?? 0
            case "truncate-after": truncateAfterChunks = Int(pair[1])
            default: continue
            }
        }
    }
}

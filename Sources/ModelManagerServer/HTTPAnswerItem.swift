import ModelManagerCore

/// An answer item as the HTTP face writes it (PROTOCOL.md §7): `usage` and `raw_response` as
/// JSON objects rather than text (unlike gRPC), the upstream's own JSON spliced in as it came.
enum HTTPAnswerItem {
    static func write(_ chunk: ResponseChunk, customID: String?, requestID: String?, to output: inout JSONOutput) {
        output.append(#"{"content":"#)
        output.write(chunk.content)
        output.append(#","usage":"#)
        if let usage = chunk.usageJSON { output.write(usage) } else { output.append("null") }
        output.append(#","raw_response":"#)
        if let raw = chunk.rawResponse { output.write(raw) } else { output.append("null") }
        output.append(#","error":"#)
        if let error = chunk.error { output.write(error) } else { output.append("null") }
        writeIdentifiers(customID: customID, requestID: requestID, to: &output)
    }

    /// A failed item; `code` names the status for callers that read only the body.
    static func writeFailure(
        _ error: ModelManagerError, code: Bool = false, customID: String?, requestID: String?,
        to output: inout JSONOutput
    ) {
        output.append(#"{"content":"","usage":null,"raw_response":null,"error":"#)
        output.write(error.message)
        if code {
            output.append(#","code":"#)
            output.write("\(error.code)")
        }
        writeIdentifiers(customID: customID, requestID: requestID, to: &output)
    }

    private static func writeIdentifiers(customID: String?, requestID: String?, to output: inout JSONOutput) {
        if let customID {
            output.append(#","custom_id":"#)
            output.write(customID)
        }
        output.append(#","request_id":"#)
        if let requestID { output.write(requestID) } else { output.append("null") }
        output.append("}")
    }
}

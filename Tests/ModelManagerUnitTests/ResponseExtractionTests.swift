import ModelManagerClient
import ModelManagerCore
import Testing

/// finish reasons and tool calls, from each provider's raw shape.
@Suite struct ResponseExtractionTests {
    func response(_ raw: JSONValue) -> ModelResponse {
        ModelResponse(
            content: "", usageJSON: ["prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "total_cost": 0.5],
            rawResponse: raw, error: nil, requestID: "r", customID: nil)
    }

    @Test func openAI() {
        let answer = response([
            "choices": [
                [
                    "finish_reason": "tool_calls",
                    "message": [
                        "tool_calls": [
                            [
                                "id": "call_1", "type": "function",
                                "function": ["name": "lookup", "arguments": "{\"q\":1}"],
                            ]
                        ]
                    ],
                ]
            ]
        ])
        #expect(answer.finishReason == "tool_calls")
        #expect(answer.toolCalls == [ToolCall(id: "call_1", name: "lookup", arguments: "{\"q\":1}")])
        #expect(answer.usage?.totalTokens == 3)
        #expect(answer.cost == 0.5)
    }

    @Test func google() {
        let answer = response([
            "candidates": [
                [
                    "finishReason": "STOP",
                    "content": ["parts": [["functionCall": ["name": "lookup", "args": ["q": 1]]]]],
                ]
            ]
        ])
        #expect(answer.toolCalls == [ToolCall(id: "call_0_lookup", name: "lookup", arguments: "{\"q\":1}")])
        #expect(answer.finishReason == "tool_calls")
        #expect(response(["candidates": [["finishReason": "MAX_TOKENS"]]]).finishReason == "length")
    }

    @Test func anthropic() {
        let answer = response([
            "stop_reason": "tool_use",
            "content": [
                ["type": "text", "text": "x"],
                ["type": "tool_use", "id": "toolu_1", "name": "lookup", "input": ["q": 1]],
            ],
        ])
        #expect(answer.finishReason == "tool_calls")
        #expect(answer.toolCalls == [ToolCall(id: "toolu_1", name: "lookup", arguments: "{\"q\":1}")])
        #expect(response(["stop_reason": "end_turn", "content": []]).finishReason == "stop")
    }

    @Test func responsesAPI() {
        let answer = response([
            "object": "response", "status": "completed",
            "output": [["type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"]],
        ])
        #expect(answer.toolCalls.first?.name == "lookup")
        #expect(answer.finishReason == "tool_calls")
        #expect(
            response([
                "object": "response", "status": "incomplete", "incomplete_details": ["reason": "max_output_tokens"],
                "output": [],
            ]).finishReason == "length")
    }
}

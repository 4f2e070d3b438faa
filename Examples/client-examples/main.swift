// Every call of the Swift client, runnable against `model-manager serve --demo`:
//
//   export MODEL_MANAGER_SERVER_ADDRESS=127.0.0.1:50051 MODEL_MANAGER_SERVER_GRPC_USE_TLS=false
//   export MODEL_MANAGER_SERVER_JWT_SECRET_KEY=<the server's secret>
//   export MODEL_CLIENT_RESILIENT_ENABLED=true MODEL_CLIENT_HTTP_FALLBACK_URL=http://127.0.0.1:8080
//   swift run client-examples
import Foundation
import Logging
import ModelManagerClient
import ModelManagerCore

LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: .warning) }
let user = UserContext(orgID: "org-example", userID: "user-example", clientType: "client-examples")

// 1. invoke: one complete answer, typed usage and cost.
let client = try AsyncModelManagerClient()
let answer = try await client.invoke(
    .chat(model: "gpt-4o-mini", messages: [.system("Be brief."), .user("Hello!")], user: user))
print(
    "invoke:", answer.content, "| tokens:", answer.usage?.totalTokens ?? 0, "| cost:", answer.cost ?? 0, "| finish:",
    answer.finishReason ?? "-")

// 2. invokeStream: deltas as they arrive, usage on the last chunk.
var streamed = ""
for try await chunk in client.invokeStream(
    .anthropic(model: "claude-sonnet-4-5", messages: [.user("Stream to me")], maxTokens: 256, user: user))
{
    streamed += chunk.content
    if let usage = chunk.usage { print("invokeStream:", streamed, "| tokens:", usage.totalTokens) }
}

// 3. invokeBatch: several requests, answers in request order, each may fail on its own.
let batch = try await client.invokeBatch([
    .gemini(model: "gemini-2.0-flash", contents: [.user("First")], config: ["temperature": 0.2], user: user),
    .chat(provider: .deepseek, model: "deepseek-chat", messages: [.user("Second")], user: user),
    .chat(model: "no-such-model", messages: [.user("Third")], user: user),
])
print("invokeBatch:", batch.responses.map { $0.error == nil ? $0.content : "error: \($0.error!)" })

// 4. Images: the first image in content, all of them in rawResponse.
let image = try await client.invoke(.image(model: "dall-e-3", prompt: "a red fox", user: user))
print("image:", image.content.prefix(60), "| images:", image.usage?.imageCount ?? 0)

// 5. Errors: one type with a code, the status, the server's message and the ids.
do {
    _ = try await client.getTaskStatus("task-that-does-not-exist")
} catch {
    print("getTaskStatus:", error.code, "|", error.message, "| request", error.requestID ?? "-")
}
do {
    _ = try await client.batchGetTaskStatus(["t-1", "t-2"])
} catch {
    print("batchGetTaskStatus:", error.code, "|", error.message)
}

// 6. An origin request id, carried to every call made inside the scope.
try await withOriginRequestID("order-4711") {
    let traced = try await client.invoke(
        .responses(model: "gpt-4o-mini", input: "Traced call", user: user), requestID: "order-4711-step-1")
    print("traced:", traced.requestID ?? "-")
}

// 7. Scoped use: the client is closed when the closure returns.
try await withModelManagerClient(configuration: try .fromEnvironment()) { scoped in
    print(
        "scoped:", try await scoped.invoke(.chat(model: "gpt-4o-mini", messages: [.user("Scoped")], user: user)).content
    )
}

// 8. The sync twin (from a thread that is not a Swift concurrency thread).
let syncResult = await withCheckedContinuation { continuation in
    Thread {
        do {
            let sync = try ModelManagerClient()
            var text = ""
            for chunk in sync.invokeStream(.chat(model: "gpt-4o-mini", messages: [.user("Sync stream")], user: user)) {
                text += chunk.content
            }
            let whole = try sync.invoke(.chat(model: "gpt-4o-mini", messages: [.user("Sync call")], user: user))
            continuation.resume(returning: "\(whole.content) / \(text)")
        } catch {
            continuation.resume(returning: "failed: \(error)")
        }
    }.start()
}
print("sync:", syncResult)

// 9. The circuit breaker's state, when resilience is on.
if let snapshot = client.circuitBreakerSnapshot {
    print(
        "circuit:", snapshot.state.rawValue, "| failures:", snapshot.failureCount, "| fallback:",
        snapshot.fallbackURL ?? "-")
}
client.close()

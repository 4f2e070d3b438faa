internal import CModelServiceProto
public import ModelManagerCore

/// The state of an asynchronous task, as `GetTaskStatusResponse` carries it.
package struct WireTaskStatus: Sendable, Hashable {
    package var taskID: String
    package var provider = ""
    package var channel = ""
    package var invokeType = ""
    package var model = ""
    package var status = ""
    package var createdAt = ""
    package var completedAt = ""
    package var resultData = ""
    package var errorMessage = ""

    package init(taskID: String) { self.taskID = taskID }
}

package enum TaskStatusCodec {
    package static func decodeRequest(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError) -> String {
        try WirePreScan.check(bytes, as: .taskRequest, limits: WireLimits())
        return try withUnpacked(
            "model_service.GetTaskStatusRequest", from: bytes,
            unpack: { model_service__get_task_status_request__unpack(nil, $0, $1) }
        ) {
            request throws(ModelManagerError) in try decodeString(request.pointee.task_id, field: "task_id")
        }
    }

    package static func decodeBatchRequest(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError) -> [String] {
        try WirePreScan.check(bytes, as: .taskBatchRequest, limits: WireLimits())
        return try withUnpacked(
            "model_service.BatchGetTaskStatusRequest", from: bytes,
            unpack: { model_service__batch_get_task_status_request__unpack(nil, $0, $1) }
        ) {
            request throws(ModelManagerError) in
            var ids: [String] = []
            for index in 0..<request.pointee.n_task_ids {
                ids.append(try decodeString(request.pointee.task_ids[index], field: "task_ids[\(index)]"))
            }
            return ids
        }
    }

    package static func encodeRequest(taskID: String) -> EncodedMessage {
        let arena = CArena()
        let request = arena.make(ModelService__GetTaskStatusRequest.self) {
            model_service__get_task_status_request__init($0)
        }
        request.pointee.task_id = arena.string(taskID)
        return EncodedMessage(arena: arena, message: request)
    }

    package static func encodeBatchRequest(taskIDs: [String]) -> EncodedMessage {
        let arena = CArena()
        let request = arena.make(ModelService__BatchGetTaskStatusRequest.self) {
            model_service__batch_get_task_status_request__init($0)
        }
        let ids = arena.array(of: UnsafeMutablePointer<CChar>?.self, count: taskIDs.count)
        for (index, id) in taskIDs.enumerated() { ids[index] = arena.string(id) }
        request.pointee.n_task_ids = taskIDs.count
        request.pointee.task_ids = ids
        return EncodedMessage(arena: arena, message: request)
    }

    package static func encodeResponse(_ status: WireTaskStatus) -> EncodedMessage {
        let arena = CArena()
        return EncodedMessage(arena: arena, message: encode(status, arena: arena))
    }

    package static func encodeBatchResponse(_ statuses: [WireTaskStatus]) -> EncodedMessage {
        let arena = CArena()
        let response = arena.make(ModelService__BatchGetTaskStatusResponse.self) {
            model_service__batch_get_task_status_response__init($0)
        }
        let tasks = arena.array(
            of: UnsafeMutablePointer<ModelService__GetTaskStatusResponse>?.self, count: statuses.count)
        for (index, status) in statuses.enumerated() { tasks[index] = encode(status, arena: arena) }
        response.pointee.n_tasks = statuses.count
        response.pointee.tasks = tasks
        return EncodedMessage(arena: arena, message: response)
    }

    private static func encode(_ status: WireTaskStatus, arena: CArena) -> UnsafeMutablePointer<
        ModelService__GetTaskStatusResponse
    > {
        let response = arena.make(ModelService__GetTaskStatusResponse.self) {
            model_service__get_task_status_response__init($0)
        }
        response.pointee.task_id = arena.string(status.taskID)
        response.pointee.provider = arena.string(status.provider)
        response.pointee.channel = arena.string(status.channel)
        response.pointee.invoke_type = arena.string(status.invokeType)
        response.pointee.model = arena.string(status.model)
        response.pointee.status = arena.string(status.status)
        response.pointee.created_at = arena.string(status.createdAt)
        response.pointee.completed_at = arena.string(status.completedAt)
        response.pointee.result_data = arena.string(status.resultData)
        response.pointee.error_message = arena.string(status.errorMessage)
        return response
    }

    package static func decodeResponse(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError) -> WireTaskStatus {
        try withUnpacked(
            "model_service.GetTaskStatusResponse", from: bytes,
            unpack: { model_service__get_task_status_response__unpack(nil, $0, $1) }
        ) {
            response throws(ModelManagerError) in try decode(response)
        }
    }

    package static func decodeBatchResponse(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError)
        -> [WireTaskStatus]
    {
        try withUnpacked(
            "model_service.BatchGetTaskStatusResponse", from: bytes,
            unpack: { model_service__batch_get_task_status_response__unpack(nil, $0, $1) }
        ) {
            response throws(ModelManagerError) in
            var statuses: [WireTaskStatus] = []
            for index in 0..<response.pointee.n_tasks {
                guard let task = response.pointee.tasks[index] else { continue }
                statuses.append(try decode(task))
            }
            return statuses
        }
    }

    private static func decode(_ response: UnsafePointer<ModelService__GetTaskStatusResponse>) throws(ModelManagerError)
        -> WireTaskStatus
    {
        let value = response.pointee
        var status = WireTaskStatus(taskID: try decodeString(value.task_id, field: "task_id"))
        status.provider = try decodeString(value.provider, field: "provider")
        status.channel = try decodeString(value.channel, field: "channel")
        status.invokeType = try decodeString(value.invoke_type, field: "invoke_type")
        status.model = try decodeString(value.model, field: "model")
        status.status = try decodeString(value.status, field: "status")
        status.createdAt = try decodeString(value.created_at, field: "created_at")
        status.completedAt = try decodeString(value.completed_at, field: "completed_at")
        status.resultData = try decodeString(value.result_data, field: "result_data")
        status.errorMessage = try decodeString(value.error_message, field: "error_message")
        return status
    }
}

/// `grpc.health.v1` messages.
package enum HealthCodec {
    package enum ServingStatus: Int32, Sendable {
        case unknown = 0, serving = 1, notServing = 2, serviceUnknown = 3
    }

    package static func decodeRequest(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError) -> String {
        try withUnpacked(
            "grpc.health.v1.HealthCheckRequest", from: bytes,
            unpack: { grpc__health__v1__health_check_request__unpack(nil, $0, $1) }
        ) {
            request throws(ModelManagerError) in try decodeString(request.pointee.service, field: "service")
        }
    }

    package static func encodeResponse(_ status: ServingStatus) -> EncodedMessage {
        let arena = CArena()
        let response = arena.make(Grpc__Health__V1__HealthCheckResponse.self) {
            grpc__health__v1__health_check_response__init($0)
        }
        response.pointee.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(
            rawValue: UInt32(status.rawValue))
        return EncodedMessage(arena: arena, message: response)
    }
}

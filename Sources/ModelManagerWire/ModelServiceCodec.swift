internal import CModelServiceProto
public import ModelManagerCore

/// One `ModelResponseItem` as it travels: `usage` and `raw_response` are JSON text.
package struct WireResponseItem: Sendable, Hashable {
    package var content: String
    package var usage: String
    package var rawResponse: String
    package var error: String
    package var customID: String?
    package var requestID: String?

    package init(
        content: String = "", usage: String = "", rawResponse: String = "", error: String = "", customID: String? = nil,
        requestID: String? = nil
    ) {
        self.content = content
        self.usage = usage
        self.rawResponse = rawResponse
        self.error = error
        self.customID = customID
        self.requestID = requestID
    }
}

/// The `model_service` messages ⇄ Core values.
package enum ModelServiceCodec {
    // MARK: requests

    /// A request item, after `WirePreScan` checked its bytes against `limits`.
    package static func decodeRequestItem(_ bytes: UnsafeRawBufferPointer, limits: WireLimits = WireLimits())
        throws(ModelManagerError) -> ModelRequest
    {
        try WirePreScan.check(bytes, as: .requestItem, limits: limits)
        return try withUnpacked(
            "model_service.ModelRequestItem", from: bytes,
            unpack: { model_service__model_request_item__unpack(nil, $0, $1) }
        ) {
            item throws(ModelManagerError) in try decode(item, path: "")
        }
    }

    /// A batch, after `WirePreScan` checked its bytes against `limits`.
    package static func decodeBatchRequest(_ bytes: UnsafeRawBufferPointer, limits: WireLimits = WireLimits())
        throws(ModelManagerError) -> [ModelRequest]
    {
        try WirePreScan.check(bytes, as: .requestBatch, limits: limits)
        return try withUnpacked(
            "model_service.ModelRequest", from: bytes, unpack: { model_service__model_request__unpack(nil, $0, $1) }
        ) {
            batch throws(ModelManagerError) in
            var items: [ModelRequest] = []
            items.reserveCapacity(batch.pointee.n_items)
            for index in 0..<batch.pointee.n_items {
                guard let item = batch.pointee.items[index] else { continue }
                items.append(try decode(item, path: "items[\(index)]."))
            }
            return items
        }
    }

    private static func decode(_ item: UnsafePointer<ModelService__ModelRequestItem>, path: String)
        throws(ModelManagerError) -> ModelRequest
    {
        let value = item.pointee
        return ModelRequest(
            provider: Provider(try decodeString(value.provider, field: path + "provider")),
            channel: Channel(try decodeString(value.channel, field: path + "channel")),
            invokeType: InvokeType(try decodeString(value.invoke_type, field: path + "invoke_type")),
            stream: value.stream != 0,
            orgID: try decodeString(value.org_id, field: path + "org_id"),
            userID: try decodeString(value.user_id, field: path + "user_id"),
            clientType: try decodeString(value.client_type, field: path + "client_type"),
            priority: value._priority_case == MODEL_SERVICE__MODEL_REQUEST_ITEM___PRIORITY_PRIORITY
                ? value.priority : nil,
            customID: value._custom_id_case == MODEL_SERVICE__MODEL_REQUEST_ITEM___CUSTOM_ID_CUSTOM_ID
                ? try decodeString(value.custom_id, field: path + "custom_id") : nil,
            region: value._region_case == MODEL_SERVICE__MODEL_REQUEST_ITEM___REGION_REGION
                ? try decodeString(value.region, field: path + "region") : nil,
            extra: try value.extra.map { extra throws(ModelManagerError) in
                try StructCoding.decode(extra, path: { path + "extra" })
            } ?? [:]
        )
    }

    package static func encodeRequestItem(_ request: ModelRequest) -> EncodedMessage {
        let arena = CArena()
        return EncodedMessage(arena: arena, message: encode(request, arena: arena))
    }

    package static func encodeBatchRequest(_ requests: [ModelRequest]) -> EncodedMessage {
        let arena = CArena()
        let batch = arena.make(ModelService__ModelRequest.self) { model_service__model_request__init($0) }
        let items = arena.array(of: UnsafeMutablePointer<ModelService__ModelRequestItem>?.self, count: requests.count)
        for (index, request) in requests.enumerated() { items[index] = encode(request, arena: arena) }
        batch.pointee.n_items = requests.count
        batch.pointee.items = items
        return EncodedMessage(arena: arena, message: batch)
    }

    private static func encode(_ request: ModelRequest, arena: CArena) -> UnsafeMutablePointer<
        ModelService__ModelRequestItem
    > {
        let item = arena.make(ModelService__ModelRequestItem.self) { model_service__model_request_item__init($0) }
        item.pointee.provider = arena.string(request.provider.rawValue)
        item.pointee.channel = arena.string(request.channel.rawValue)
        item.pointee.invoke_type = arena.string(request.invokeType.rawValue)
        item.pointee.stream = request.stream ? 1 : 0
        item.pointee.org_id = arena.string(request.orgID)
        item.pointee.user_id = arena.string(request.userID)
        item.pointee.client_type = arena.string(request.clientType)
        if let priority = request.priority {
            item.pointee._priority_case = MODEL_SERVICE__MODEL_REQUEST_ITEM___PRIORITY_PRIORITY
            item.pointee.priority = priority
        }
        if let customID = request.customID {
            item.pointee._custom_id_case = MODEL_SERVICE__MODEL_REQUEST_ITEM___CUSTOM_ID_CUSTOM_ID
            item.pointee.custom_id = arena.string(customID)
        }
        if let region = request.region {
            item.pointee._region_case = MODEL_SERVICE__MODEL_REQUEST_ITEM___REGION_REGION
            item.pointee.region = arena.string(region)
        }
        item.pointee.extra = StructCoding.encode(request.extra, arena: arena)
        return item
    }

    // MARK: responses

    package static func encodeResponseItem(_ response: WireResponseItem) -> EncodedMessage {
        let arena = CArena()
        return EncodedMessage(arena: arena, message: encode(response, arena: arena))
    }

    package static func encodeBatchResponse(requestID: String, items: [WireResponseItem]) -> EncodedMessage {
        let arena = CArena()
        let response = arena.make(ModelService__ModelResponse.self) { model_service__model_response__init($0) }
        response.pointee.request_id = arena.string(requestID)
        let array = arena.array(of: UnsafeMutablePointer<ModelService__ModelResponseItem>?.self, count: items.count)
        for (index, item) in items.enumerated() { array[index] = encode(item, arena: arena) }
        response.pointee.n_items = items.count
        response.pointee.items = array
        return EncodedMessage(arena: arena, message: response)
    }

    private static func encode(_ response: WireResponseItem, arena: CArena) -> UnsafeMutablePointer<
        ModelService__ModelResponseItem
    > {
        let item = arena.make(ModelService__ModelResponseItem.self) { model_service__model_response_item__init($0) }
        item.pointee.content = arena.string(response.content)
        item.pointee.usage = arena.string(response.usage)
        item.pointee.raw_response = arena.string(response.rawResponse)
        item.pointee.error = arena.string(response.error)
        if let customID = response.customID {
            item.pointee._custom_id_case = MODEL_SERVICE__MODEL_RESPONSE_ITEM___CUSTOM_ID_CUSTOM_ID
            item.pointee.custom_id = arena.string(customID)
        }
        if let requestID = response.requestID {
            item.pointee._request_id_case = MODEL_SERVICE__MODEL_RESPONSE_ITEM___REQUEST_ID_REQUEST_ID
            item.pointee.request_id = arena.string(requestID)
        }
        return item
    }

    package static func decodeResponseItem(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError)
        -> WireResponseItem
    {
        try withUnpacked(
            "model_service.ModelResponseItem", from: bytes,
            unpack: { model_service__model_response_item__unpack(nil, $0, $1) }
        ) {
            item throws(ModelManagerError) in try decode(item, path: "")
        }
    }

    package static func decodeBatchResponse(_ bytes: UnsafeRawBufferPointer) throws(ModelManagerError) -> (
        requestID: String, items: [WireResponseItem]
    ) {
        try withUnpacked(
            "model_service.ModelResponse", from: bytes, unpack: { model_service__model_response__unpack(nil, $0, $1) }
        ) {
            response throws(ModelManagerError) in
            var items: [WireResponseItem] = []
            for index in 0..<response.pointee.n_items {
                guard let item = response.pointee.items[index] else { continue }
                items.append(try decode(item, path: "items[\(index)]."))
            }
            return (try decodeString(response.pointee.request_id, field: "request_id"), items)
        }
    }

    private static func decode(_ item: UnsafePointer<ModelService__ModelResponseItem>, path: String)
        throws(ModelManagerError) -> WireResponseItem
    {
        let value = item.pointee
        return WireResponseItem(
            content: try decodeString(value.content, field: path + "content"),
            usage: try decodeString(value.usage, field: path + "usage"),
            rawResponse: try decodeString(value.raw_response, field: path + "raw_response"),
            error: try decodeString(value.error, field: path + "error"),
            customID: value._custom_id_case == MODEL_SERVICE__MODEL_RESPONSE_ITEM___CUSTOM_ID_CUSTOM_ID
                ? try decodeString(value.custom_id, field: path + "custom_id") : nil,
            requestID: value._request_id_case == MODEL_SERVICE__MODEL_RESPONSE_ITEM___REQUEST_ID_REQUEST_ID
                ? try decodeString(value.request_id, field: path + "request_id") : nil
        )
    }
}

internal import CModelServiceProto
import ModelManagerCore

/// `google.protobuf.Struct` ⇄ `JSONValue`.
enum StructCoding {
    /// `path` names the value in errors; it is a closure so that it is built only for one.
    static func decode(_ value: UnsafePointer<Google__Protobuf__Struct>, path: () -> String) throws(ModelManagerError)
        -> [String: JSONValue]
    {
        var object: [String: JSONValue] = [:]
        object.reserveCapacity(value.pointee.n_fields)
        for index in 0..<value.pointee.n_fields {
            guard let entry = value.pointee.fields[index] else { continue }
            let key = try decodeString(entry.pointee.key, field: "\(path()) key")
            object[key] = try decode(entry.pointee.value, path: { "\(path()).\(key)" })
        }
        return object
    }

    static func decode(_ value: UnsafePointer<Google__Protobuf__Value>?, path: () -> String) throws(ModelManagerError)
        -> JSONValue
    {
        guard let value else { return .null }
        switch value.pointee.kind_case {
        case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: return .double(value.pointee.number_value)
        case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
            return .string(try decodeString(value.pointee.string_value, field: path()))
        case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE: return .bool(value.pointee.bool_value != 0)
        case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
            guard let nested = value.pointee.struct_value else { return .object([:]) }
            return .object(try decode(nested, path: path))
        case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
            guard let list = value.pointee.list_value else { return .array([]) }
            var array: [JSONValue] = []
            array.reserveCapacity(list.pointee.n_values)
            for index in 0..<list.pointee.n_values {
                array.append(try decode(list.pointee.values[index], path: { "\(path())[\(index)]" }))
            }
            return .array(array)
        default: return .null
        }
    }

    static func encode(_ object: [String: JSONValue], arena: CArena) -> UnsafeMutablePointer<Google__Protobuf__Struct> {
        let message = arena.make(Google__Protobuf__Struct.self) { google__protobuf__struct__init($0) }
        let entries = arena.array(
            of: UnsafeMutablePointer<Google__Protobuf__Struct__FieldsEntry>?.self, count: object.count)
        for (index, key) in object.keys.sorted().enumerated() {
            let entry = arena.make(Google__Protobuf__Struct__FieldsEntry.self) {
                google__protobuf__struct__fields_entry__init($0)
            }
            entry.pointee.key = arena.string(key)
            entry.pointee.value = encode(object[key]!, arena: arena)
            entries[index] = entry
        }
        message.pointee.n_fields = object.count
        message.pointee.fields = entries
        return message
    }

    static func encode(_ value: JSONValue, arena: CArena) -> UnsafeMutablePointer<Google__Protobuf__Value> {
        let message = arena.make(Google__Protobuf__Value.self) { google__protobuf__value__init($0) }
        switch value {
        case .null:
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE
            message.pointee.null_value = GOOGLE__PROTOBUF__NULL_VALUE__NULL_VALUE
        case .bool(let bool):
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE
            message.pointee.bool_value = bool ? 1 : 0
        case .integer(let integer):
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE
            message.pointee.number_value = Double(integer)
        case .double(let double):
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE
            message.pointee.number_value = double
        case .string(let string):
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE
            message.pointee.string_value = arena.string(string)
        case .object(let object):
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE
            message.pointee.struct_value = encode(object, arena: arena)
        case .array(let array):
            let list = arena.make(Google__Protobuf__ListValue.self) { google__protobuf__list_value__init($0) }
            let values = arena.array(of: UnsafeMutablePointer<Google__Protobuf__Value>?.self, count: array.count)
            for (index, element) in array.enumerated() { values[index] = encode(element, arena: arena) }
            list.pointee.n_values = array.count
            list.pointee.values = values
            message.pointee.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE
            message.pointee.list_value = list
        }
        return message
    }
}

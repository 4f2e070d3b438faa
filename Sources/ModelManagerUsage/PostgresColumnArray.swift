import NIOCore
import PostgresNIO

/// One column of a batch as a PostgreSQL array in binary form, NULL elements included (which
/// PostgresNIO's own arrays cannot carry). A batch is then one bind per column, whatever its row
/// count, and the statement text stays the same from commit to commit.
struct PostgresColumnArray: PostgresThrowingDynamicTypeEncodable {
    /// The element types the ledger's tables use; any other column travels as text and is cast.
    enum Kind {
        case text, int8, int4, float8, bool

        init(udtName: String) {
            switch udtName {
            case "int8": self = .int8
            case "int4": self = .int4
            case "float8": self = .float8
            case "bool": self = .bool
            default: self = .text
            }
        }

        var arrayTypeName: String {
            switch self {
            case .text: "text[]"
            case .int8: "int8[]"
            case .int4: "int4[]"
            case .float8: "float8[]"
            case .bool: "bool[]"
            }
        }

        fileprivate var arrayType: PostgresDataType {
            switch self {
            case .text: .textArray
            case .int8: .int8Array
            case .int4: .int4Array
            case .float8: .float8Array
            case .bool: .boolArray
            }
        }

        fileprivate var elementType: PostgresDataType {
            switch self {
            case .text: .text
            case .int8: .int8
            case .int4: .int4
            case .float8: .float8
            case .bool: .bool
            }
        }
    }

    struct Mismatch: Error, CustomStringConvertible {
        let column: String
        let kind: Kind
        let value: SQLValue
        var description: String { "column \(column) (\(kind.arrayTypeName)) cannot hold \(value)" }
    }

    let column: String
    let kind: Kind
    let values: [SQLValue]

    var psqlType: PostgresDataType { kind.arrayType }
    var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) throws {
        buffer.writeInteger(Int32(1))  // dimensions
        buffer.writeInteger(Int32(values.contains(.null) ? 1 : 0))
        buffer.writeInteger(kind.elementType.rawValue)
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))  // lower bound
        for value in values {
            switch (kind, value) {
            case (_, .null):
                buffer.writeInteger(Int32(-1))
            case (.text, .text(let text)):
                Self.write(text, into: &buffer)
            case (.text, .integer(let integer)):
                Self.write(String(integer), into: &buffer)
            case (.text, .double(let double)):
                Self.write(String(double), into: &buffer)
            case (.text, .bool(let bool)):
                Self.write(bool ? "true" : "false", into: &buffer)
            case (.int8, .integer(let integer)):
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(integer)
            case (.int4, .integer(let integer)) where Int64(Int32.min)...Int64(Int32.max) ~= integer:
                buffer.writeInteger(Int32(4))
                buffer.writeInteger(Int32(integer))
            case (.float8, .double(let double)):
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(double.bitPattern)
            case (.float8, .integer(let integer)):
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(Double(integer).bitPattern)
            case (.bool, .bool(let bool)):
                buffer.writeInteger(Int32(1))
                buffer.writeInteger(UInt8(bool ? 1 : 0))
            default:
                throw Mismatch(column: column, kind: kind, value: value)
            }
        }
    }

    private static func write(_ text: String, into buffer: inout ByteBuffer) {
        let lengthAt = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        let length = buffer.writeString(text)
        buffer.setInteger(Int32(length), at: lengthAt)
    }
}

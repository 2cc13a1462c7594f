import Foundation

/// The reference vector files in `Tests/Vectors`, copied from the shared
/// vector set so that tests run on any clean checkout. They are plain files,
/// not SwiftPM resources: they are found relative to this source file.
enum Vectors {
    /// `Tests/Vectors`, found from this file's path (`Tests/FulcrumHashingTests/Support/Vectors.swift`).
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FulcrumHashingTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Vectors", isDirectory: true)

    /// Why a vector file could not be used.
    struct FileError: Error, CustomStringConvertible {
        var description: String
    }

    /// Loads `Tests/Vectors/<name>` and parses it with `JSONSerialization`.
    /// The top level must be a JSON object.
    static func load(_ name: String) throws -> [String: Any] {
        let url = directory.appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw FileError(description: "\(url.path): the top level is not a JSON object")
        }
        return object
    }

    /// `object[key]` as `T`, or an error naming the file's field.
    static func field<T>(_ object: [String: Any], _ key: String, as type: T.Type = T.self) throws -> T {
        guard let value = object[key] as? T else {
            throw FileError(description: "field '\(key)' is missing or not a \(T.self)")
        }
        return value
    }
}

/// `value` as zero-padded lowercase hex, big-endian: `%08x` for 32 bits, `%016x` for 64.
func hex<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16, uppercase: false)
    return String(repeating: "0", count: T.bitWidth / 4 - digits.count) + digits
}

/// Bytes in order as lowercase hex, two digits each (as `md5sum` prints a digest).
func hex(bytes: some Sequence<UInt8>) -> String {
    bytes.map { hex($0) }.joined()
}

/// The bytes of `value` in little-endian order.
func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

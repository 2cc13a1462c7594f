/// Builds the byte strings that ring points are hashed from, such as
/// `10.0.0.1:11211-17`, on the stack rather than through string formatting.
package enum PointKey {
    /// Calls `body` with the UTF-8 bytes of `name`, then `separator`, then
    /// `number` in decimal.
    @inlinable
    package static func withBytes<R>(
        name: String,
        separator: UInt8,
        number: Int,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        try name.withUTF8Bytes { nameBytes in
            try withUnsafeTemporaryAllocation(byteCount: nameBytes.count + 21, alignment: 1) { buffer in
                buffer.copyMemory(from: nameBytes)
                var length = nameBytes.count
                buffer[length] = separator
                length += 1
                length += writeDecimal(number, into: UnsafeMutableRawBufferPointer(rebasing: buffer[length...]))
                return try body(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
            }
        }
    }

    /// Writes a non-negative integer in decimal and returns the byte count.
    @inlinable
    package static func writeDecimal(_ value: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(value >= 0)
        var digits = 1
        var probe = value
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        var rest = value
        for i in stride(from: digits - 1, through: 0, by: -1) {
            buffer[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        return digits
    }
}

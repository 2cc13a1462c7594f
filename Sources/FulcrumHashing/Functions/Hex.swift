/// Lowercase hexadecimal rendering without Foundation's formatting.
package enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value as fixed-width big-endian hex: `%08x` for 32 bits, `%016x` for 64.
    package static func encode<T: FixedWidthInteger & UnsignedInteger>(_ value: T) -> String {
        let nibbles = T.bitWidth / 4
        return String(unsafeUninitializedCapacity: nibbles) { out in
            for i in 0..<nibbles {
                let shift = (nibbles - 1 - i) * 4
                out[i] = digits[Int(truncatingIfNeeded: value >> shift) & 0xF]
            }
            return nibbles
        }
    }

    /// The value's bytes in little-endian order, as a digest's bytes are printed.
    package static func encodeLittleEndian(_ value: UInt64) -> String {
        encode(value.byteSwapped)
    }

    /// Bytes in order.
    package static func encode(bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = digits[Int(byte >> 4)]
                out[i + 1] = digits[Int(byte & 0xF)]
                i += 2
            }
            return i
        }
    }
}

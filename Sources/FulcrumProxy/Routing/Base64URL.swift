/// RFC 4648 §5 base64url decoding, strict as JWS (RFC 7515 §2) writes it:
/// the URL-safe alphabet (`-`, `_`), no padding, no whitespace.
package enum Base64URL {
    /// The decoded bytes, or `nil` for any character outside the alphabet, a
    /// `=`, a length that no encoding has (4k + 1), or non-zero unused bits.
    /// - Complexity: O(n); allocates the result.
    package static func decode<Text: Collection<UInt8>>(_ text: Text) -> [UInt8]? {
        let count = text.count
        guard count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            guard let sextet = sextet(byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(sextet)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // The leftover bits of the last character must be zero (canonical encoding).
        guard accumulator == 0 else { return nil }
        return output
    }

    @inline(__always)
    static func sextet(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}

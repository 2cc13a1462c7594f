/// Byte-level ASCII helpers for routing: HTTP names and hosts are ASCII, so
/// comparing them needs neither allocation nor Unicode case folding.
enum ASCII {
    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    /// Whether `a` and `b` are equal ignoring ASCII case.
    /// - Complexity: O(n), no allocation.
    static func equalsIgnoringCase<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { lower($0) == lower($1) }
    }

    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        equalsIgnoringCase(a.utf8, b.utf8)
    }

    /// Whether `a` ends with `lowercaseSuffix` ignoring ASCII case (the
    /// suffix must already be lowercase).
    static func hasSuffixIgnoringCase(_ a: Substring.UTF8View, lowercaseSuffix suffix: String.UTF8View) -> Bool {
        guard a.count >= suffix.count else { return false }
        return zip(a.dropFirst(a.count - suffix.count), suffix).allSatisfy { lower($0) == $1 }
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}

/// Byte classes and small helpers from the ABNF of RFC 9110 / RFC 9112 / RFC 3986.
///
/// Everything here works on `UnsafeRawBufferPointer` and integer ranges and allocates nothing.
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let comma: UInt8 = 0x2C
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let dquote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let asterisk: UInt8 = 0x2A
    static let percent: UInt8 = 0x25

    /// `tchar` (RFC 9110 §5.6.2).
    @inline(__always)
    static func isTokenChar(_ b: UInt8) -> Bool {
        switch b {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39:  // a-z A-Z 0-9
            return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E:
            // ! # $ % & ' * + - . ^ _ ` | ~
            return true
        default:
            return false
        }
    }

    /// A byte allowed inside a field value: HTAB, SP, VCHAR or obs-text (RFC 9110 §5.5).
    /// Rejects NUL, CR, LF, the other CTLs and DEL.
    @inline(__always)
    static func isFieldValueChar(_ b: UInt8) -> Bool {
        b == htab || (b >= 0x20 && b != 0x7F)
    }

    /// Optional whitespace: SP or HTAB.
    @inline(__always)
    static func isOWS(_ b: UInt8) -> Bool {
        b == sp || b == htab
    }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool {
        b >= 0x30 && b <= 0x39
    }

    @inline(__always)
    static func isAlpha(_ b: UInt8) -> Bool {
        (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A
    }

    /// The value of a HEXDIG, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b &- 0x30)
        case 0x41...0x46: return Int(b &- 0x41 &+ 10)
        case 0x61...0x66: return Int(b &- 0x61 &+ 10)
        default: return nil
        }
    }

    /// `unreserved` (RFC 3986 §2.3).
    @inline(__always)
    static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case 0x61...0x7A, 0x41...0x5A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:  // - . _ ~
            return true
        default:
            return false
        }
    }

    /// `sub-delims` (RFC 3986 §2.2).
    @inline(__always)
    static func isSubDelim(_ b: UInt8) -> Bool {
        switch b {
        case 0x21, 0x24, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x3B, 0x3D:  // ! $ & ' ( ) * + , ; =
            return true
        default:
            return false
        }
    }

    /// ASCII lower-casing of a single byte.
    @inline(__always)
    static func lower(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b
    }

    /// Case-insensitive comparison of `bytes[range]` with a lower-case ASCII literal.
    @inline(__always)
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard literal.utf8CodeUnitCount == range.count else { return false }
        let l = literal.utf8Start
        var i = 0
        while i < range.count {
            if lower(bytes[range.lowerBound &+ i]) != l[i] { return false }
            i &+= 1
        }
        return true
    }

    /// `range` without leading and trailing SP / HTAB.
    @inline(__always)
    static func trimOWS(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var lo = range.lowerBound
        var hi = range.upperBound
        while lo < hi, isOWS(bytes[lo]) { lo &+= 1 }
        while hi > lo, isOWS(bytes[hi &- 1]) { hi &-= 1 }
        return lo..<hi
    }

    /// Parses `1*DIGIT` as a non-negative `Int`. Returns nil for an empty range, any
    /// non-digit, or overflow.
    static func parseDecimal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        var value = 0
        for i in range {
            let b = bytes[i]
            guard isDigit(b) else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(b &- 0x30))
            if o1 || o2 { return nil }
            value = s
        }
        return value
    }

    /// Whether every byte of `range` is a `tchar` and the range is non-empty.
    static func isToken(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        for i in range where !isTokenChar(bytes[i]) {
            return false
        }
        return true
    }

    /// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1), trimmed
    /// of OWS. Empty elements are passed too (as empty ranges) so callers can decide whether
    /// to ignore or reject them. Stops early when `body` returns false.
    @inline(__always)
    static func forEachListElement(
        _ bytes: UnsafeRawBufferPointer,
        _ range: Range<Int>,
        _ body: (Range<Int>) -> Bool
    ) {
        var start = range.lowerBound
        var i = range.lowerBound
        while i < range.upperBound {
            if bytes[i] == comma {
                if !body(trimOWS(bytes, start..<i)) { return }
                start = i &+ 1
            }
            i &+= 1
        }
        _ = body(trimOWS(bytes, start..<range.upperBound))
    }
}

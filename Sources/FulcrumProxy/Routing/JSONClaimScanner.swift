/// What a JWT payload says about one claim.
package enum ClaimValue: Sendable, Hashable {
    /// A string (unescaped), a number (as written, such as `42` or `4.2e1`),
    /// or `true` / `false`.
    case text(String)
    /// An object or an array: present, but with no text to compare.
    case nonText
    /// Not in the payload, or `null`.
    case absent
}

/// Finds one top-level member of a JSON object, validating the whole text as
/// strict RFC 8259 JSON on the way.
///
/// This is not a JSON parser: it builds nothing but the one value asked for.
/// It rejects (returns `nil` for) anything that is not exactly one object:
/// invalid UTF-8, control characters in strings, bad escapes or lone
/// surrogates, leading zeros, trailing commas, trailing content, nesting
/// deeper than ``maxDepth``, and the asked-for member appearing twice (RFC
/// 7519 §4 lets a JWT reader reject duplicate claim names rather than guess).
package struct JSONClaimScanner {
    /// Objects and arrays nested deeper than this are rejected, so a hostile
    /// payload cannot make the scanner recurse without bound.
    package static let maxDepth = 32

    private let bytes: [UInt8]
    private var index = 0

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// The member `name` of the object in `json`, or `nil` when `json` is not
    /// one strict JSON object.
    /// - Complexity: O(n) in the text's length; allocates only the value found
    ///   (and a reused buffer for member names).
    package static func claim(_ name: String, in json: [UInt8]) -> ClaimValue? {
        guard isValidUTF8(json) else { return nil }
        var scanner = JSONClaimScanner(bytes: json)
        return scanner.scanObject(for: Array(name.utf8))
    }

    /// Whether `json` is one strict JSON object.
    static func isObject(_ json: [UInt8]) -> Bool {
        claim("", in: json) != nil
    }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    // MARK: Scanning

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    private mutating func consume(literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        let matches = literal.withUTF8Buffer { literal in
            literal.indices.allSatisfy { bytes[index + $0] == literal[$0] }
        }
        guard matches else { return false }
        index += count
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek,
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r")
        {
            index += 1
        }
    }

    private mutating func scanObject(for name: [UInt8]) -> ClaimValue? {
        skipWhitespace()
        guard consume(UInt8(ascii: "{")) else { return nil }
        var result = ClaimValue.absent
        var found = false
        var key: [UInt8] = []
        skipWhitespace()
        if !consume(UInt8(ascii: "}")) {
            repeat {
                skipWhitespace()
                key.removeAll(keepingCapacity: true)
                guard scanString(into: &key, keep: true) else { return nil }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return nil }
                skipWhitespace()
                if key == name {
                    guard !found, let value = scanClaimValue() else { return nil }
                    found = true
                    result = value
                } else {
                    guard skipValue(depth: 1) else { return nil }
                }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            guard consume(UInt8(ascii: "}")) else { return nil }
        }
        skipWhitespace()
        guard index == bytes.count else { return nil }
        return result
    }

    private mutating func scanClaimValue() -> ClaimValue? {
        guard let byte = peek else { return nil }
        switch byte {
        case UInt8(ascii: "\""):
            var text: [UInt8] = []
            guard scanString(into: &text, keep: true) else { return nil }
            return String(validating: text, as: UTF8.self).map(ClaimValue.text)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            guard scanNumber() else { return nil }
            return .text(String(decoding: bytes[start..<index], as: UTF8.self))
        case UInt8(ascii: "t"):
            return consume(literal: "true") ? .text("true") : nil
        case UInt8(ascii: "f"):
            return consume(literal: "false") ? .text("false") : nil
        case UInt8(ascii: "n"):
            return consume(literal: "null") ? .absent : nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            return skipValue(depth: 1) ? .nonText : nil
        default:
            return nil
        }
    }

    private mutating func skipValue(depth: Int) -> Bool {
        guard depth <= Self.maxDepth, let byte = peek else { return false }
        switch byte {
        case UInt8(ascii: "\""):
            var unused: [UInt8] = []
            return scanString(into: &unused, keep: false)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return scanNumber()
        case UInt8(ascii: "t"): return consume(literal: "true")
        case UInt8(ascii: "f"): return consume(literal: "false")
        case UInt8(ascii: "n"): return consume(literal: "null")
        case UInt8(ascii: "{"):
            index += 1
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return true }
            var unused: [UInt8] = []
            repeat {
                skipWhitespace()
                guard scanString(into: &unused, keep: false) else { return false }
                skipWhitespace()
                guard consume(UInt8(ascii: ":")) else { return false }
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            repeat {
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "]"))
        default:
            return false
        }
    }

    /// A string at `index`, its unescaped UTF-8 appended to `output` when `keep`.
    private mutating func scanString(into output: inout [UInt8], keep: Bool) -> Bool {
        guard consume(UInt8(ascii: "\"")) else { return false }
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return true
            case 0..<0x20:
                return false
            case UInt8(ascii: "\\"):
                guard let escaped = peek else { return false }
                index += 1
                let simple: UInt8
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): simple = escaped
                case UInt8(ascii: "b"): simple = 0x08
                case UInt8(ascii: "f"): simple = 0x0C
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "r"): simple = 0x0D
                case UInt8(ascii: "t"): simple = 0x09
                case UInt8(ascii: "u"):
                    guard let scalar = scanUnicodeEscape() else { return false }
                    if keep { UTF8.encode(scalar) { output.append($0) } }
                    continue
                default:
                    return false
                }
                if keep { output.append(simple) }
            default:
                if keep { output.append(byte) }
            }
        }
        return false
    }

    /// The scalar of `XXXX` (after `\u`), or of a surrogate pair
    /// `XXXX\uYYYY`; `nil` for bad hex or a lone surrogate.
    private mutating func scanUnicodeEscape() -> Unicode.Scalar? {
        guard let first = scanHex4() else { return nil }
        switch first {
        case 0xD800...0xDBFF:
            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let second = scanHex4(),
                (0xDC00...0xDFFF).contains(second)
            else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF:
            return nil
        default:
            return Unicode.Scalar(first)
        }
    }

    private mutating func scanHex4() -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = PercentDecoding.hexValue(bytes[index]) else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// RFC 8259 §6: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func scanNumber() -> Bool {
        _ = consume(UInt8(ascii: "-"))
        if !consume(UInt8(ascii: "0")) {
            guard let first = peek, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(first) else { return false }
            skipDigits()
        }
        if consume(UInt8(ascii: ".")) {
            guard skipDigits() > 0 else { return false }
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard skipDigits() > 0 else { return false }
        }
        return true
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }
}

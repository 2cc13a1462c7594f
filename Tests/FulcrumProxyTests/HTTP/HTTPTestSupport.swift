import FulcrumProxy
import Testing

/// A request head parsed from a string, with helpers to read its ranges back as strings.
struct ParsedRequestFixture {
    var bytes: [UInt8]
    var result: HTTPHeadParseResult<ParsedHTTPRequestHead>
    var fields: [HTTPHeaderField]

    init(_ text: String, limits: HTTPParserLimits = .defaults) {
        self.init(bytes: Array(text.utf8), limits: limits)
    }

    init(bytes: [UInt8], limits: HTTPParserLimits = .defaults) {
        self.bytes = bytes
        var fields: [HTTPHeaderField] = []
        self.result = bytes.withUnsafeBytes { HTTPRequestHeadParser.parse($0, limits: limits, fields: &fields) }
        self.fields = fields
    }

    var head: ParsedHTTPRequestHead? {
        if case .complete(let head) = self.result { return head }
        return nil
    }

    var error: HTTPParseError? {
        if case .failure(let error) = self.result { return error }
        return nil
    }

    var isIncomplete: Bool {
        if case .incomplete = self.result { return true }
        return false
    }

    func string(_ range: Range<Int>?) -> String? {
        range.map { String(decoding: self.bytes[$0], as: UTF8.self) }
    }

    /// The trimmed value of the first field named `name` (case-insensitive).
    func header(_ name: String) -> String? {
        for field in self.fields where self.string(field.name)?.lowercased() == name.lowercased() {
            return self.string(field.value)
        }
        return nil
    }
}

/// A response head parsed from a string.
struct ParsedResponseFixture {
    var bytes: [UInt8]
    var result: HTTPHeadParseResult<ParsedHTTPResponseHead>
    var fields: [HTTPHeaderField]

    init(_ text: String) {
        self.bytes = Array(text.utf8)
        var fields: [HTTPHeaderField] = []
        self.result = self.bytes.withUnsafeBytes { HTTPResponseHeadParser.parse($0, fields: &fields) }
        self.fields = fields
    }

    var head: ParsedHTTPResponseHead? {
        if case .complete(let head) = self.result { return head }
        return nil
    }

    var error: HTTPParseError? {
        if case .failure(let error) = self.result { return error }
        return nil
    }
}

/// Runs a body framer over `bytes` fed in pieces of at most `piece` bytes; returns the
/// total bytes consumed when the message completed, or the failure / nil (still incomplete).
func frameBody(_ mode: HTTPBodyFramer.Mode, _ bytes: [UInt8], piece: Int = .max) -> Result<Int, HTTPParseError>? {
    var framer = HTTPBodyFramer(mode: mode)
    var offset = 0
    repeat {
        let end = min(bytes.count, offset + max(piece, 1))
        let result = bytes[offset..<end].withUnsafeBytes { framer.consume($0) }
        switch result {
        case .needMore(let consumed):
            precondition(consumed == end - offset)
            offset = end
        case .messageComplete(let consumed):
            return .success(offset + consumed)
        case .failure(let error):
            return .failure(error)
        }
    } while offset < bytes.count
    if framer.isComplete { return .success(offset) }
    return nil
}

/// A small deterministic PRNG (SplitMix64), so generated cases are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A named input and the failure it must produce, for parameterized rejection tests.
struct RejectionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var text: String
    var status: Int
    var reason: String

    init(_ name: String, _ text: String, _ status: Int, _ reason: String) {
        self.name = name
        self.text = text
        self.status = status
        self.reason = reason
    }

    var testDescription: String { self.name }
}

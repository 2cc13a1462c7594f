/// The connection options named by a head's `Connection` header fields, as byte ranges.
///
/// A proxy must remove every header field whose name is listed here, in addition to the
/// fixed hop-by-hop set, before forwarding (RFC 9110 §7.6.1). Storage is inline (no heap
/// allocation); a head naming more than ``capacity`` options is rejected with 400 by the
/// parsers, because options the proxy cannot track are options it cannot strip.
///
/// Tokens are kept in the order they appear, duplicates included; empty list elements are
/// ignored as RFC 9110 §5.6.1 requires.
public struct HTTPConnectionTokens: RandomAccessCollection, Hashable, Sendable {
    /// The most options one head may name.
    public static let capacity = 8

    private var storage:
        (Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>, Range<Int>) =
            (0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0, 0..<0)
    public private(set) var count = 0
    /// Whether a `close` option was present.
    public internal(set) var containsClose = false
    /// Whether a `keep-alive` option was present.
    public internal(set) var containsKeepAlive = false
    /// Whether an `upgrade` option was present.
    public internal(set) var containsUpgrade = false

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.count }

    public subscript(position: Int) -> Range<Int> {
        precondition(position >= 0 && position < self.count, "index out of range")
        switch position {
        case 0: return self.storage.0
        case 1: return self.storage.1
        case 2: return self.storage.2
        case 3: return self.storage.3
        case 4: return self.storage.4
        case 5: return self.storage.5
        case 6: return self.storage.6
        default: return self.storage.7
        }
    }

    /// Appends a token range; returns false when full.
    mutating func append(_ range: Range<Int>) -> Bool {
        switch self.count {
        case 0: self.storage.0 = range
        case 1: self.storage.1 = range
        case 2: self.storage.2 = range
        case 3: self.storage.3 = range
        case 4: self.storage.4 = range
        case 5: self.storage.5 = range
        case 6: self.storage.6 = range
        case 7: self.storage.7 = range
        default: return false
        }
        self.count += 1
        return true
    }

    public static func == (lhs: HTTPConnectionTokens, rhs: HTTPConnectionTokens) -> Bool {
        lhs.elementsEqual(rhs) && lhs.containsClose == rhs.containsClose
            && lhs.containsKeepAlive == rhs.containsKeepAlive && lhs.containsUpgrade == rhs.containsUpgrade
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.count)
        for range in self { hasher.combine(range) }
    }
}

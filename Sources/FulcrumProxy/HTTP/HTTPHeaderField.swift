/// One header field line of a parsed head, as byte ranges into the parser's input.
///
/// `value` has its surrounding optional whitespace (SP / HTAB) removed; it may be empty.
/// Ranges are offsets from the first byte given to the parser, so they stay valid however
/// the caller stores the bytes (a `ByteBuffer` slice, an array, ...).
public struct HTTPHeaderField: Hashable, Sendable {
    /// The field name (a non-empty token, case preserved).
    public var name: Range<Int>
    /// The field value without leading or trailing OWS.
    public var value: Range<Int>

    public init(name: Range<Int>, value: Range<Int>) {
        self.name = name
        self.value = value
    }
}

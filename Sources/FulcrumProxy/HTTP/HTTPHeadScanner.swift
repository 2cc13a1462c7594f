/// Splits a message head into lines, incrementally, requiring CRLF everywhere.
///
/// The scanner keeps its position between calls, so feeding a growing prefix of the same
/// message costs O(total bytes), not O(bytes²). It enforces `maxHeadSize` while the head is
/// incomplete.
///
/// Line endings are strict: every line must end in CRLF. A bare LF (some parsers accept it
/// as a line terminator, RFC 9112 §2.2 allows that as a MAY) and a bare CR (RFC 9112 §2.2:
/// MUST be rejected or replaced) are both rejected, because any disagreement with the
/// backend about where a line ends is a request-smuggling vector.
struct HTTPHeadScanner {
    enum Step {
        /// The start line (request-line or status-line), without its CRLF.
        case startLine(Range<Int>)
        /// A field line, without its CRLF.
        case fieldLine(Range<Int>)
        /// The empty line ending the head; the associated value is the head length.
        case end(Int)
        case needMore
        case failure(HTTPParseError)
    }

    /// Whether empty lines before the start line are skipped (requests, RFC 9112 §2.2).
    let skipsLeadingEmptyLines: Bool
    private(set) var lineStart = 0
    private(set) var position = 0
    private(set) var inStartLine = true
    /// The first and second SP of the (incomplete) start line, for early limit checks.
    private(set) var firstSpace: Int? = nil
    private(set) var secondSpace: Int? = nil

    init(skipsLeadingEmptyLines: Bool) {
        self.skipsLeadingEmptyLines = skipsLeadingEmptyLines
    }

    mutating func reset() {
        self = HTTPHeadScanner(skipsLeadingEmptyLines: self.skipsLeadingEmptyLines)
    }

    mutating func next(_ bytes: UnsafeRawBufferPointer, maxHeadSize: Int) -> Step {
        let limit = min(bytes.count, maxHeadSize)
        var i = self.position
        while i < limit {
            let b = bytes[i]
            if b == HTTPSyntax.lf {
                guard i > self.lineStart, bytes[i &- 1] == HTTPSyntax.cr else {
                    return .failure(.badRequest("bare LF"))
                }
                let line = self.lineStart..<(i &- 1)
                self.lineStart = i &+ 1
                self.position = i &+ 1
                if self.inStartLine {
                    if line.isEmpty {
                        guard self.skipsLeadingEmptyLines else {
                            return .failure(.badRequest("empty line before start line"))
                        }
                        i &+= 1
                        continue
                    }
                    self.inStartLine = false
                    return .startLine(line)
                }
                return line.isEmpty ? .end(i &+ 1) : .fieldLine(line)
            } else if b == HTTPSyntax.cr {
                if i &+ 1 < bytes.count {
                    if bytes[i &+ 1] != HTTPSyntax.lf {
                        return .failure(.badRequest("bare CR"))
                    }
                } else {
                    // Wait for the byte after the CR before deciding.
                    self.position = i
                    return .needMore
                }
            } else if b == HTTPSyntax.sp && self.inStartLine {
                if self.firstSpace == nil {
                    self.firstSpace = i
                } else if self.secondSpace == nil {
                    self.secondSpace = i
                }
            }
            i &+= 1
        }
        self.position = i
        if bytes.count >= maxHeadSize {
            // The first maxHeadSize bytes hold no complete head, so the head is larger.
            return .failure(.headTooLarge("head too large"))
        }
        return .needMore
    }
}

/// The outcome of feeding bytes to an HTTP head parser.
public enum HTTPHeadParseResult<Head: Sendable>: Sendable {
    /// The head is not complete yet; call again with more bytes (the same prefix, extended).
    case incomplete
    /// The head is complete. `Head.headLength` tells where the body starts.
    case complete(Head)
    /// The bytes are not a valid head (or exceed a limit). Respond with `status` and close.
    case failure(HTTPParseError)
}

extension HTTPHeadParseResult: Equatable where Head: Equatable {}

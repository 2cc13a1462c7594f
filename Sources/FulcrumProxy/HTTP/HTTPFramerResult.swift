/// What ``HTTPBodyFramer/consume(_:)`` decided about the bytes it was given.
public enum HTTPFramerResult: Hashable, Sendable {
    /// All `consumed` bytes (always the whole input) belong to the body; the body continues.
    case needMore(consumed: Int)
    /// The body ended after `consumed` bytes of the input; any later bytes belong to the
    /// next message on the connection (pipelining).
    case messageComplete(consumed: Int)
    /// The body's framing is invalid. Stop forwarding and close the connection.
    case failure(HTTPParseError)
}

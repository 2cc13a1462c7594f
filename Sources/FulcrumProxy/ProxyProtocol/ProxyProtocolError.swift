import FulcrumCore
import Logging

/// Why bytes are not an acceptable PROXY protocol header. The connection is
/// closed: the spec forbids guessing or skipping past a bad header, since a
/// receiver that did so would let clients spoof their addresses.
public struct ProxyProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Grows without breaking callers that switch with a default.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Neither `PROXY ` nor the v2 signature.
        public static let notProxyProtocol = Code(name: "not_proxy_protocol")
        /// A v1 line that breaks the grammar.
        public static let invalidV1 = Code(name: "invalid_v1")
        /// A v2 block with a bad version, command, family or length.
        public static let invalidV2 = Code(name: "invalid_v2")
        /// Longer than the limit before the header ended.
        public static let tooLong = Code(name: "too_long")
        /// The source is not one of the listener's trusted networks.
        public static let untrustedSource = Code(name: "untrusted_source")
        /// No complete header within the header timeout.
        public static let timeout = Code(name: "timeout")
        /// The connection ended before a complete header.
        public static let truncated = Code(name: "truncated")

        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "PROXY protocol \(code): \(message)" }
}

extension ProxyProtocolError {
    /// The refusal of a peer outside `trusted`, or nil for a trusted one.
    /// Only trusted sources may send a header at all: from anyone else the
    /// connection is closed before it is read.
    static func untrusted(_ peer: ProxyEndpoint?, _ trusted: [IPNetwork]) -> ProxyProtocolError? {
        if let peer, trusted.contains(where: { $0.contains(peer.address) }) { return nil }
        let who = peer.map { "\($0)" } ?? "an unknown peer"
        return ProxyProtocolError(.untrustedSource, "\(who) is not a trusted source")
    }
}

extension Logger {
    /// The one log line for a connection closed over its PROXY header, on
    /// TCP and HTTP listeners alike.
    func proxyProtocolRefused(peer: ProxyEndpoint?, _ error: ProxyProtocolError) {
        warning(
            "closing connection: PROXY protocol",
            metadata: ["peer": "\(peer.map { "\($0)" } ?? "-")", "reason": "\(error.code)", "detail": "\(error.message)"]
        )
    }
}

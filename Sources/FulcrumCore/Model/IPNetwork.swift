/// A block of addresses written `10.0.0.0/8` or `fd00::/8`, for the list of
/// load balancers a listener trusts to send PROXY protocol headers.
///
/// Host bits must be zero (`10.0.0.1/8` is refused rather than silently
/// widened), because a typo there would trust far more sources than meant.
/// An IPv4 network also matches IPv4-mapped IPv6 peers (`::ffff:10.0.0.1`),
/// which is how a listener bound to `::` sees IPv4 clients.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network's first address.
    public let address: ClientAddress
    /// 0–32 for IPv4, 0–128 for IPv6.
    public let prefixLength: Int

    /// Why a text is not a network.
    public enum ParseError: Error, Sendable, Hashable {
        case notAnAddress
        case badPrefix
        /// The host bits are not zero; the network the user probably means.
        case hostBitsSet(suggestion: String)
    }

    /// Parses `address/prefix`, or a bare address (a /32 or /128).
    public static func parse(_ text: String) -> Result<IPNetwork, ParseError> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = ClientAddress(text: parts[0]) else { return .failure(.notAnAddress) }
        let width = address.isIPv6 ? 128 : 32
        var length = width
        if parts.count == 2 {
            guard let value = Int(parts[1]), parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), value <= width,
                !(parts[1].count > 1 && parts[1].first == "0")
            else { return .failure(.badPrefix) }
            length = value
        }
        let masked = Self.mask(address, length)
        guard masked == address else {
            return .failure(.hostBitsSet(suggestion: "\(masked)/\(length)"))
        }
        return .success(IPNetwork(address: masked, prefixLength: length))
    }

    private init(address: ClientAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `candidate` lies in this network.
    /// - Complexity: O(1).
    public func contains(_ candidate: ClientAddress) -> Bool {
        let candidate = address.isIPv6 ? candidate : (candidate.unmappedIPv4 ?? candidate)
        guard candidate.isIPv6 == address.isIPv6 else { return false }
        return Self.mask(candidate, prefixLength) == address
    }

    private static func mask(_ address: ClientAddress, _ length: Int) -> ClientAddress {
        if !address.isIPv6 {
            let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
            return ClientAddress(ipv4: UInt32(truncatingIfNeeded: address.high) & mask)
        }
        let highMask: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~UInt64(0) << (64 - length))
        let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~UInt64(0) << (128 - length))
        return ClientAddress(ipv6High: address.high & highMask, low: address.low & lowMask)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}

import FulcrumCore

/// Reads a PROXY protocol header (v1 or v2) from the start of a connection's
/// bytes, as they arrive.
///
/// Call ``parse(_:)`` with everything received so far; it answers
/// ``Outcome/incomplete`` until the header is whole, and throws as soon as
/// the bytes can no longer become a valid header, so that a wrong peer is
/// turned away after its first packet rather than after a timeout. Limits
/// are strict: a v1 line must end within 107 bytes (the spec's worst case)
/// and a v2 header, TLVs included, within ``maxV2Length``.
public struct ProxyHeaderParser: Sendable {
    /// The longest v1 line, CRLF included (proxy-protocol.txt §2.1).
    public static let maxV1Length = 107
    /// The v2 fixed part: signature, version/command, family, length.
    public static let v2FixedLength = 16
    /// The default bound on a whole v2 header. The spec designs headers to
    /// fit 536 bytes; TLVs (AWS and GCP add a few tens of bytes) may take a
    /// header beyond that, so the default leaves room up to 1 KiB.
    public static let defaultMaxV2Length = 1024

    /// What the bytes so far amount to.
    public enum Outcome: Sendable, Hashable {
        /// A valid prefix of a header; read more.
        case incomplete
        /// A whole header of `length` bytes; the bytes after it are payload.
        case complete(ProxyHeader, length: Int)
    }

    public var maxV2Length: Int

    public init(maxV2Length: Int = ProxyHeaderParser.defaultMaxV2Length) {
        self.maxV2Length = max(maxV2Length, Self.v2FixedLength + 216)
    }

    private static let v1Prefix = Array("PROXY ".utf8)

    /// - Complexity: O(n) in the bytes given, at most the header's length.
    public func parse(_ bytes: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Outcome {
        let signature = ProxyHeader.v2Signature
        if Self.isPrefix(bytes, of: signature) {
            return bytes.count < Self.v2FixedLength ? .incomplete : try parseV2(bytes)
        }
        if Self.isPrefix(bytes, of: Self.v1Prefix) {
            return bytes.count < Self.v1Prefix.count ? .incomplete : try Self.parseV1(bytes)
        }
        throw ProxyProtocolError(.notProxyProtocol, "the connection does not start with a PROXY protocol header")
    }

    /// Whether `bytes` and `expected` agree on their common length.
    private static func isPrefix(_ bytes: UnsafeRawBufferPointer, of expected: [UInt8]) -> Bool {
        let count = min(bytes.count, expected.count)
        for index in 0..<count where bytes[index] != expected[index] { return false }
        return true
    }

    // MARK: v1

    private static func parseV1(_ bytes: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Outcome {
        let scan = min(bytes.count, maxV1Length)
        var end: Int?
        for index in v1Prefix.count..<scan {
            let byte = bytes[index]
            if byte == 0x0A {
                throw ProxyProtocolError(.invalidV1, "a line feed without a carriage return before it")
            }
            if byte == 0x0D {
                guard index + 1 < bytes.count else { return .incomplete }
                guard bytes[index + 1] == 0x0A else {
                    throw ProxyProtocolError(.invalidV1, "a carriage return not followed by a line feed")
                }
                end = index
                break
            }
            guard byte >= 0x20, byte < 0x7F else {
                throw ProxyProtocolError(.invalidV1, "a byte \(byte) that is not printable US-ASCII")
            }
        }
        guard let end else {
            if bytes.count >= maxV1Length {
                throw ProxyProtocolError(.tooLong, "no CRLF within the first \(maxV1Length) bytes")
            }
            return .incomplete
        }
        let line = UnsafeRawBufferPointer(rebasing: bytes[v1Prefix.count..<end])
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false)
        let length = end + 2
        guard let family = fields.first else { throw ProxyProtocolError(.invalidV1, "no protocol family") }
        if family.elementsEqual("UNKNOWN".utf8) {
            // The rest of an UNKNOWN line is ignored, as the spec says.
            return .complete(ProxyHeader(version: .v1, command: .proxy, addresses: nil), length: length)
        }
        let isIPv6: Bool
        if family.elementsEqual("TCP4".utf8) {
            isIPv6 = false
        } else if family.elementsEqual("TCP6".utf8) {
            isIPv6 = true
        } else {
            throw ProxyProtocolError(.invalidV1, "protocol family must be TCP4, TCP6 or UNKNOWN")
        }
        guard fields.count == 5 else {
            throw ProxyProtocolError(
                .invalidV1,
                "expected 'PROXY \(isIPv6 ? "TCP6" : "TCP4") SOURCE DESTINATION SPORT DPORT' with single spaces"
            )
        }
        guard let source = address(fields[1], isIPv6: isIPv6), let destination = address(fields[2], isIPv6: isIPv6)
        else {
            throw ProxyProtocolError(
                .invalidV1,
                "addresses must be \(isIPv6 ? "IPv6" : "IPv4 dotted quads without leading zeros")"
            )
        }
        guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else {
            throw ProxyProtocolError(.invalidV1, "ports must be 0 to 65535 without leading zeros")
        }
        let addresses = ProxyHeader.Addresses(
            source: ProxyEndpoint(address: source, port: sourcePort),
            destination: ProxyEndpoint(address: destination, port: destinationPort)
        )
        return .complete(ProxyHeader(version: .v1, command: .proxy, addresses: addresses), length: length)
    }

    private static func address(_ field: Slice<UnsafeRawBufferPointer>, isIPv6: Bool) -> ClientAddress? {
        let bytes = UnsafeRawBufferPointer(rebasing: field)
        if isIPv6 { return ClientAddress.parseIPv6(bytes) }
        return ClientAddress.parseIPv4(bytes[...]).map { ClientAddress(ipv4: $0) }
    }

    private static func port(_ field: Slice<UnsafeRawBufferPointer>) -> UInt16? {
        guard (1...5).contains(field.count), !(field.count > 1 && field.first == UInt8(ascii: "0")) else {
            return nil
        }
        var value = 0
        for byte in field {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= 65535 ? UInt16(value) : nil
    }

    // MARK: v2

    private func parseV2(_ bytes: UnsafeRawBufferPointer) throws(ProxyProtocolError) -> Outcome {
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else {
            throw ProxyProtocolError(.invalidV2, "version \(versionCommand >> 4); only 2 is defined")
        }
        let command: ProxyHeader.Command
        switch versionCommand & 0x0F {
        case 0: command = .local
        case 1: command = .proxy
        default: throw ProxyProtocolError(.invalidV2, "command \(versionCommand & 0x0F); 0 (LOCAL) or 1 (PROXY)")
        }
        let familyByte = bytes[13]
        let family = familyByte >> 4
        let transport = familyByte & 0x0F
        guard family <= 3, transport <= 2 else {
            throw ProxyProtocolError(.invalidV2, "address family and protocol byte \(familyByte) is not defined")
        }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        let total = Self.v2FixedLength + length
        guard total <= maxV2Length else {
            throw ProxyProtocolError(.tooLong, "a \(total)-byte header; the limit is \(maxV2Length)")
        }
        guard bytes.count >= total else { return .incomplete }
        let block = UnsafeRawBufferPointer(rebasing: bytes[Self.v2FixedLength..<total])
        let addressLength: Int
        switch family {
        case 1: addressLength = 12
        case 2: addressLength = 36
        case 3: addressLength = 216
        default: addressLength = 0
        }
        guard block.count >= addressLength else {
            throw ProxyProtocolError(.invalidV2, "\(block.count) address bytes; the family needs \(addressLength)")
        }
        try Self.checkTLVs(UnsafeRawBufferPointer(rebasing: block[addressLength...]))
        // LOCAL ignores the address block; UNSPEC and AF_UNIX carry nothing
        // an IP balancer can use, so the connection's endpoints apply.
        guard command == .proxy, family == 1 || family == 2, transport != 0 else {
            return .complete(ProxyHeader(version: .v2, command: command, addresses: nil), length: total)
        }
        let width = family == 1 ? 4 : 16
        let source = Self.binaryAddress(block, at: 0, width: width)
        let destination = Self.binaryAddress(block, at: width, width: width)
        let sourcePort = UInt16(block[2 * width]) << 8 | UInt16(block[2 * width + 1])
        let destinationPort = UInt16(block[2 * width + 2]) << 8 | UInt16(block[2 * width + 3])
        let addresses = ProxyHeader.Addresses(
            transport: transport == 1 ? .stream : .datagram,
            source: ProxyEndpoint(address: source, port: sourcePort),
            destination: ProxyEndpoint(address: destination, port: destinationPort)
        )
        return .complete(ProxyHeader(version: .v2, command: .proxy, addresses: addresses), length: total)
    }

    private static func binaryAddress(_ block: UnsafeRawBufferPointer, at offset: Int, width: Int) -> ClientAddress {
        var high: UInt64 = 0
        var low: UInt64 = 0
        if width == 4 {
            for index in 0..<4 { high = high << 8 | UInt64(block[offset + index]) }
            return ClientAddress(ipv4: UInt32(high))
        }
        for index in 0..<8 { high = high << 8 | UInt64(block[offset + index]) }
        for index in 8..<16 { low = low << 8 | UInt64(block[offset + index]) }
        return ClientAddress(ipv6High: high, low: low)
    }

    /// TLVs are skipped, but they must tile the rest of the block exactly:
    /// a length that runs past the end means the sender is broken.
    private static func checkTLVs(_ bytes: UnsafeRawBufferPointer) throws(ProxyProtocolError) {
        var offset = 0
        while offset < bytes.count {
            guard offset + 3 <= bytes.count else {
                throw ProxyProtocolError(.invalidV2, "a TLV header cut short")
            }
            let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            offset += 3 + length
            guard offset <= bytes.count else {
                throw ProxyProtocolError(.invalidV2, "a TLV longer than the header")
            }
        }
    }
}

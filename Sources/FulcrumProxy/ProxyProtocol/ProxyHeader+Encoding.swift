import FulcrumCore

extension ProxyHeader {
    /// The 12 bytes every v2 header starts with. The NUL in fifth place and
    /// the `QUIT` make it a line that HTTP, SMTP and friends reject outright.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// The header as it goes on the wire, sent at once before any payload.
    ///
    /// v1 can only name TCP over one family; anything else (a datagram
    /// flow, LOCAL, mixed families that are not IPv4-mapped) is sent as
    /// `PROXY UNKNOWN\r\n`, which tells the receiver to use the connection's
    /// own endpoints. v2 sends LOCAL and unknown families as `AF_UNSPEC`
    /// with no address block, as the spec asks senders to.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        encode(into: &bytes)
        return bytes
    }

    /// Appends the header to `bytes`.
    public func encode(into bytes: inout [UInt8]) {
        let usable = command == .proxy ? addresses.flatMap(Self.sameFamily) : nil
        switch version {
        case .v1:
            guard let usable, usable.transport == .stream else {
                bytes += Array("PROXY UNKNOWN\r\n".utf8)
                return
            }
            let family = usable.source.address.isIPv6 ? "TCP6" : "TCP4"
            let line =
                "PROXY \(family) \(usable.source.address) \(usable.destination.address) "
                + "\(usable.source.port) \(usable.destination.port)\r\n"
            bytes += Array(line.utf8)
        case .v2:
            bytes += Self.v2Signature
            bytes.append(command == .proxy ? 0x21 : 0x20)
            guard let usable else {
                bytes += [0x00, 0x00, 0x00]
                return
            }
            let isIPv6 = usable.source.address.isIPv6
            bytes.append((isIPv6 ? 0x20 : 0x10) | (usable.transport == .stream ? 0x01 : 0x02))
            bytes += isIPv6 ? [0x00, 36] : [0x00, 12]
            Self.appendAddress(usable.source.address, to: &bytes)
            Self.appendAddress(usable.destination.address, to: &bytes)
            bytes += [UInt8(usable.source.port >> 8), UInt8(truncatingIfNeeded: usable.source.port)]
            bytes += [UInt8(usable.destination.port >> 8), UInt8(truncatingIfNeeded: usable.destination.port)]
        }
    }

    /// Both endpoints in one family: an IPv4-mapped IPv6 endpoint is
    /// written as IPv4 when the other end is IPv4 (or mapped too).
    static func sameFamily(_ addresses: Addresses) -> Addresses? {
        var result = addresses
        if result.source.address.isIPv6 == result.destination.address.isIPv6 {
            guard let source = result.source.address.unmappedIPv4,
                let destination = result.destination.address.unmappedIPv4
            else { return result }
            result.source.address = source
            result.destination.address = destination
            return result
        }
        if let mapped = result.source.address.unmappedIPv4 {
            result.source.address = mapped
        } else if let mapped = result.destination.address.unmappedIPv4 {
            result.destination.address = mapped
        } else {
            return nil
        }
        return result
    }

    private static func appendAddress(_ address: ClientAddress, to bytes: inout [UInt8]) {
        address.withBytes { bytes += $0 }
    }
}

extension ClientAddress: CustomStringConvertible {
    /// Parses an address as written in configuration files and PROXY
    /// protocol v1 lines: a dotted quad without leading zeros (so `010.0.0.1`
    /// cannot be read as octal by one peer and decimal by another), or IPv6
    /// with at most one `::` and an optional dotted-quad tail.
    ///
    /// - Returns: `nil` for anything else, including host names and zones.
    public init?(text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let parsed = bytes.withUnsafeBytes({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses the address in `bytes` (ASCII), for parsers that hold raw bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ClientAddress? {
        if let v4 = parseIPv4(bytes[...]) { return ClientAddress(ipv4: v4) }
        return parseIPv6(bytes)
    }

    package static func parseIPv4(_ bytes: Slice<UnsafeRawBufferPointer>) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3 else { return nil }
                value = value << 8 | octet
                (octet, digits, dots) = (0, 0, dots + 1)
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // A leading zero is only allowed as the whole octet.
                guard !(digits == 1 && octet == 0) else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard octet <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    package static func parseIPv6(_ bytes: UnsafeRawBufferPointer) -> ClientAddress? {
        let count = bytes.count
        guard count >= 2, count <= 45 else { return nil }
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gap: Int?
        var i = 0
        if bytes[0] == UInt8(ascii: ":") {
            guard bytes[1] == UInt8(ascii: ":") else { return nil }
            gap = 0
            i = 2
        }
        while i < count {
            var j = i
            var value: UInt32 = 0
            while j < count, j - i < 5, let digit = Self.hexValue(bytes[j]) {
                value = value << 4 | UInt32(digit)
                j += 1
            }
            if j < count, bytes[j] == UInt8(ascii: ".") {
                guard groups.count <= 6, let v4 = parseIPv4(bytes[i..<count]) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4))
                i = count
                break
            }
            guard j > i, j - i <= 4, groups.count < 8 else { return nil }
            groups.append(UInt16(value))
            i = j
            if i == count { break }
            guard bytes[i] == UInt8(ascii: ":"), i + 1 < count else { return nil }
            i += 1
            if bytes[i] == UInt8(ascii: ":") {
                guard gap == nil else { return nil }
                gap = groups.count
                i += 1
            }
        }
        if let gap {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return ClientAddress(ipv6High: high, low: low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`), as dual-stack
    /// sockets report IPv4 peers; `nil` for any other address.
    public var unmappedIPv4: ClientAddress? {
        guard isIPv6, high == 0, low >> 32 == 0xFFFF else { return nil }
        return ClientAddress(ipv4: UInt32(truncatingIfNeeded: low))
    }

    /// Dotted quad, or IPv6 as glibc's `inet_ntop` writes it (RFC 5952: lower
    /// case, the longest run of two or more zero groups as `::`, and mapped
    /// IPv4 as `::ffff:a.b.c.d`), so that PROXY v1 lines match HAProxy's.
    public var description: String {
        guard isIPv6 else { return Self.dottedQuad(UInt32(truncatingIfNeeded: high)) }
        if let v4 = unmappedIPv4 {
            return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: v4.high))
        }
        var groups: [UInt16] = []
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: high >> shift)) }
        for shift in stride(from: 48, through: 0, by: -16) { groups.append(UInt16(truncatingIfNeeded: low >> shift)) }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if run.start < 0 { run = (index, 0) }
                run.length += 1
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        if best.length < 2 { best = (-1, 0) }
        var text = ""
        var index = 0
        while index < 8 {
            if index == best.start {
                text += "::"
                index += best.length
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }

    private static func dottedQuad(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

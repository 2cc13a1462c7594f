import FulcrumCore
import Testing

import FulcrumProxy

/// The codec against proxy-protocol.txt's own examples and limits, and
/// against bytes HAProxy 2.6 itself sent (`send-proxy` and `send-proxy-v2`
/// from 127.0.0.1:40001 to a frontend on 127.0.0.1:36649 / :49165, captured
/// with a plain socket on the server side).
@Suite("PROXY protocol codec")
struct ProxyHeaderTests {
    static let parser = ProxyHeaderParser()

    static func parse(_ bytes: [UInt8]) throws(ProxyProtocolError) -> ProxyHeaderParser.Outcome {
        do {
            return try bytes.withUnsafeBytes { buffer in try parser.parse(buffer) }
        } catch let error as ProxyProtocolError {
            throw error
        } catch {
            fatalError("unexpected \(error)")
        }
    }

    static func endpoint(_ text: String, _ port: UInt16) -> ProxyEndpoint {
        ProxyEndpoint(address: ClientAddress(text: text)!, port: port)
    }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    // MARK: The spec's examples

    @Test("The spec's v1 example encodes to exactly its line and decodes back")
    func specExampleV1() throws {
        let line = Array("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n".utf8)
        let header = ProxyHeader(
            version: .v1,
            addresses: .init(source: Self.endpoint("192.168.0.1", 56324), destination: Self.endpoint("192.168.0.11", 443))
        )
        #expect(header.encoded() == line)
        #expect(try Self.parse(line + Array("GET / HTTP/1.1\r\n".utf8)) == .complete(header, length: line.count))
    }

    @Test(
        "The spec's maximum line lengths are accepted",
        arguments: [
            ("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", 56),
            ("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", 104),
            ("PROXY UNKNOWN\r\n", 15),
            ("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", 107),
        ]
    )
    func specLengths(line: String, length: Int) throws {
        let bytes = Array(line.utf8)
        #expect(bytes.count == length)
        guard case .complete(_, let parsed) = try Self.parse(bytes) else {
            Issue.record("incomplete")
            return
        }
        #expect(parsed == length)
    }

    @Test("UNKNOWN and LOCAL carry no address; the connection's own endpoints apply")
    func unknownAndLocal() throws {
        let unknown = try Self.parse(Array("PROXY UNKNOWN\r\n".utf8))
        #expect(unknown == .complete(ProxyHeader(version: .v1, addresses: nil), length: 15))
        #expect(ProxyHeader(version: .v1, command: .local, addresses: nil).encoded() == Array("PROXY UNKNOWN\r\n".utf8))
        let local = ProxyHeader(version: .v2, command: .local, addresses: nil)
        #expect(local.encoded() == ProxyHeader.v2Signature + [0x20, 0x00, 0x00, 0x00])
        #expect(try Self.parse(local.encoded()) == .complete(local, length: 16))
        // A LOCAL header that still presents addresses: skipped by its length.
        let withBlock = ProxyHeader.v2Signature + [0x20, 0x11, 0x00, 0x0C] + [UInt8](repeating: 7, count: 12)
        #expect(try Self.parse(withBlock + [0x41]) == .complete(local, length: 28))
        #expect(local.client == nil)
    }

    // MARK: HAProxy's own bytes

    @Test("HAProxy 2.6 send-proxy bytes decode, and we encode the same")
    func haproxyV1() throws {
        let bytes = Self.hex("50524f58592054435034203132372e302e302e31203132372e302e302e312034303030312033363634390d0a")
        let header = ProxyHeader(
            version: .v1,
            addresses: .init(source: Self.endpoint("127.0.0.1", 40001), destination: Self.endpoint("127.0.0.1", 36649))
        )
        #expect(try Self.parse(bytes + Array("hi".utf8)) == .complete(header, length: bytes.count))
        #expect(header.encoded() == bytes)
    }

    @Test("HAProxy 2.6 send-proxy-v2 bytes decode, and we encode the same")
    func haproxyV2() throws {
        let bytes = Self.hex("0d0a0d0a000d0a515549540a2111000c7f0000017f0000019c41c00d")
        let header = ProxyHeader(
            version: .v2,
            addresses: .init(source: Self.endpoint("127.0.0.1", 40001), destination: Self.endpoint("127.0.0.1", 49165))
        )
        #expect(try Self.parse(bytes + Array("hi".utf8)) == .complete(header, length: 28))
        #expect(header.encoded() == bytes)
        #expect(header.client == Self.endpoint("127.0.0.1", 40001))
    }

    @Test("v2 over IPv6 and UDP, with TLVs skipped")
    func v2IPv6() throws {
        let header = ProxyHeader(
            version: .v2,
            addresses: .init(
                transport: .datagram,
                source: Self.endpoint("2001:db8::1", 53),
                destination: Self.endpoint("2001:db8::2", 5353)
            )
        )
        var bytes = header.encoded()
        #expect(bytes.count == 16 + 36)
        #expect(bytes[13] == 0x22)
        #expect(try Self.parse(bytes) == .complete(header, length: 52))
        // Append a NOOP TLV (type 0x04, 2 bytes) and fix the length.
        bytes += [0x04, 0x00, 0x02, 0xAA, 0xBB]
        bytes[15] = 36 + 5
        #expect(try Self.parse(bytes) == .complete(header, length: 57))
    }

    @Test("v1 over IPv6, and IPv4-mapped endpoints written as TCP4")
    func v1IPv6() throws {
        let header = ProxyHeader(
            version: .v1,
            addresses: .init(source: Self.endpoint("2001:db8::1", 1), destination: Self.endpoint("::1", 2))
        )
        #expect(String(decoding: header.encoded(), as: UTF8.self) == "PROXY TCP6 2001:db8::1 ::1 1 2\r\n")
        #expect(try Self.parse(header.encoded()) == .complete(header, length: header.encoded().count))
        let mixed = ProxyHeader(
            version: .v1,
            addresses: .init(source: Self.endpoint("::ffff:10.1.2.3", 1), destination: Self.endpoint("10.0.0.1", 2))
        )
        #expect(String(decoding: mixed.encoded(), as: UTF8.self) == "PROXY TCP4 10.1.2.3 10.0.0.1 1 2\r\n")
    }

    // MARK: Incremental

    @Test("Every proper prefix is incomplete, for both versions")
    func incremental() throws {
        let v1 = Array("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ::1 65535 1\r\n".utf8)
        let v2 = Self.hex("0d0a0d0a000d0a515549540a2111000c7f0000017f0000019c41c00d")
        for bytes in [v1, v2] {
            for end in 0..<bytes.count {
                #expect(try Self.parse(Array(bytes[..<end])) == .incomplete, "prefix of \(end)")
            }
            guard case .complete(_, let length) = try Self.parse(bytes) else {
                Issue.record("whole header incomplete")
                continue
            }
            #expect(length == bytes.count)
        }
    }

    // MARK: Rejections

    @Test(
        "Lines that break the v1 grammar are rejected at once",
        arguments: [
            ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", ProxyProtocolError.Code.invalidV1, true),  // needs one more byte
            ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", .invalidV1, false),
            ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", .invalidV1, false),
            ("PROXY TCP4 010.2.3.4 5.6.7.8 1 2\r\n", .invalidV1, false),
            ("PROXY TCP4 1.2.3.4 5.6.7.8 0443 2\r\n", .invalidV1, false),
            ("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", .invalidV1, false),
            ("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", .invalidV1, false),
            ("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", .invalidV1, false),
            ("PROXY TCP4 ::1 ::1 1 2\r\n", .invalidV1, false),
            ("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n", .invalidV1, false),
            ("PROXY TCP6 1::2::3 ::1 1 2\r\n", .invalidV1, false),
            ("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", .invalidV1, false),
            ("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", .invalidV1, false),
            ("GET / HTTP/1.1\r\n", .notProxyProtocol, false),
            ("PROXX", .notProxyProtocol, false),
        ]
    )
    func rejectsV1(line: String, code: ProxyProtocolError.Code, incomplete: Bool) {
        let bytes = Array(line.utf8)
        if incomplete {
            #expect((try? Self.parse(bytes)) == .incomplete)
            return
        }
        #expect(throws: ProxyProtocolError.self) { try Self.parse(bytes) }
        do {
            _ = try Self.parse(bytes)
        } catch {
            #expect(error.code == code, "\(line.debugDescription): \(error)")
        }
    }

    @Test("A v1 line with no CRLF in 107 bytes is too long")
    func v1TooLong() {
        let bytes = Array("PROXY UNKNOWN ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 93)
        #expect(bytes.count == 107)
        #expect((try? Self.parse(Array(bytes.dropLast()))) == .incomplete)
        do {
            _ = try Self.parse(bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .tooLong)
        }
    }

    @Test(
        "v2 blocks with a bad version, command, family, length or TLV are rejected",
        arguments: [
            ([0x11, 0x11, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), ProxyProtocolError.Code.invalidV2),
            ([0x22, 0x11, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), .invalidV2),
            ([0x21, 0x41, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), .invalidV2),
            ([0x21, 0x13, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), .invalidV2),
            ([0x21, 0x11, 0x00, 0x08] + [UInt8](repeating: 0, count: 8), .invalidV2),
            ([0x21, 0x21, 0x00, 0x0C] + [UInt8](repeating: 0, count: 12), .invalidV2),
            ([0x21, 0x11, 0x00, 0x0E] + [UInt8](repeating: 0, count: 12) + [0x04, 0x00], .invalidV2),
            ([0x21, 0x11, 0x00, 0x10] + [UInt8](repeating: 0, count: 12) + [0x04, 0x00, 0x05, 0x00], .invalidV2),
            ([0x21, 0x11, 0xFF, 0xFF], .tooLong),
        ]
    )
    func rejectsV2(tail: [UInt8], code: ProxyProtocolError.Code) {
        do {
            _ = try Self.parse(ProxyHeader.v2Signature + tail)
            Issue.record("accepted \(tail)")
        } catch {
            #expect(error.code == code)
        }
    }

    // MARK: Address text

    @Test(
        "IPv6 text is written as inet_ntop writes it",
        arguments: [
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("::1", "::1"),
            ("::", "::"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("1:0:1:0:1:0:1:0", "1:0:1:0:1:0:1:0"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
            ("FE80::A", "fe80::a"),
        ]
    )
    func ipv6Text(input: String, output: String) {
        #expect(ClientAddress(text: input)?.description == output)
    }
}

import FulcrumCore
import FulcrumProxy
import Logging
import NIOCore
import NIOEmbedded
import Testing

/// Records what reaches the handler after the decoder, in order.
private final class Recorder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    enum Seen: Equatable {
        case client(ProxyProtocolClientAddress)
        case bytes(String)
    }
    var seen: [Seen] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        seen.append(.bytes(String(buffer: unwrapInboundIn(data))))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ProxyProtocolClientAddress { seen.append(.client(event)) }
    }
}

@Suite("ProxyProtocolDecoder in a pipeline")
struct ProxyProtocolDecoderTests {
    static let trusted = [try! IPNetwork.parse("10.0.0.0/8").get()]

    private static func harness(peer: String) throws -> (EmbeddedChannel, Recorder, ProxyProtocolRecord) {
        let channel = EmbeddedChannel()
        let recorder = Recorder()
        let record = ProxyProtocolRecord()
        try channel.pipeline.syncOperations.addHandler(
            ProxyProtocolDecoder(trusted: trusted, record: record, logger: Logger(label: "test"))
        )
        try channel.pipeline.syncOperations.addHandler(recorder)
        // An embedded channel's peer is the address it "connects" to.
        try channel.connect(to: SocketAddress(ipAddress: peer, port: 4000)).wait()
        return (channel, recorder, record)
    }

    private static func write(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
    }

    @Test("A trusted source's header is stripped; the event comes before the payload, then the decoder leaves")
    func trustedV1() throws {
        let (channel, recorder, record) = try Self.harness(peer: "10.1.1.1")
        try Self.write(channel, "PROXY TCP4 203.0.113.7 10.9.9.9 51000 80\r\nhello")
        let expected = ProxyProtocolClientAddress(
            client: ProxyEndpoint(address: ClientAddress(text: "203.0.113.7")!, port: 51000),
            header: ProxyHeader(
                version: .v1,
                addresses: .init(
                    source: ProxyEndpoint(address: ClientAddress(text: "203.0.113.7")!, port: 51000),
                    destination: ProxyEndpoint(address: ClientAddress(text: "10.9.9.9")!, port: 80)
                )
            )
        )
        #expect(recorder.seen == [.client(expected), .bytes("hello")])
        #expect(record.value == expected)
        #expect(throws: ChannelPipelineError.self) {
            _ = try channel.pipeline.syncOperations.handler(type: ProxyProtocolDecoder.self)
        }
        try Self.write(channel, " world")
        #expect(recorder.seen.last == .bytes(" world"))
        #expect(channel.isActive)
    }

    @Test("A header split over reads, byte by byte, is put together")
    func split() throws {
        let (channel, recorder, _) = try Self.harness(peer: "10.1.1.1")
        let header = ProxyHeader(
            version: .v2,
            addresses: .init(
                source: ProxyEndpoint(address: ClientAddress(text: "2001:db8::7")!, port: 1),
                destination: ProxyEndpoint(address: ClientAddress(text: "2001:db8::1")!, port: 2)
            )
        )
        for byte in header.encoded() {
            try channel.writeInbound(channel.allocator.buffer(bytes: [byte]))
        }
        #expect(recorder.seen.count == 1)
        guard case .client(let carried) = recorder.seen.first else {
            Issue.record("no event")
            return
        }
        #expect(carried.address == ClientAddress(text: "2001:db8::7"))
    }

    @Test("LOCAL names no client: the connection's own peer is announced")
    func local() throws {
        let (channel, recorder, _) = try Self.harness(peer: "10.1.1.1")
        let local = ProxyHeader(version: .v2, command: .local, addresses: nil).encoded()
        try channel.writeInbound(channel.allocator.buffer(bytes: local))
        guard case .client(let carried) = recorder.seen.first else {
            Issue.record("no event")
            return
        }
        #expect(carried.client == ProxyEndpoint(address: ClientAddress(text: "10.1.1.1")!, port: 4000))
    }

    @Test("An untrusted source is closed before it sends anything")
    func untrusted() throws {
        let (channel, recorder, record) = try Self.harness(peer: "192.0.2.1")
        #expect(!channel.isActive)
        #expect(recorder.seen.isEmpty)
        #expect(record.value == nil)
    }

    @Test("A trusted source without a header is closed, and none of its bytes pass")
    func noHeader() throws {
        let (channel, recorder, _) = try Self.harness(peer: "10.1.1.1")
        try? Self.write(channel, "GET / HTTP/1.1\r\n\r\n")
        #expect(!channel.isActive)
        #expect(recorder.seen.isEmpty)
    }

    @Test("A trusted source that stalls mid-header is closed at the header timeout")
    func timeout() throws {
        let (channel, recorder, _) = try Self.harness(peer: "10.1.1.1")
        try Self.write(channel, "PROXY TCP4 1.2.3.4")
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive)
        #expect(recorder.seen.isEmpty)
    }
}

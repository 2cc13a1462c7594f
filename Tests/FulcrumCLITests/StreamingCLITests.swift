import Foundation
import Testing

@Suite("Streaming through fulcrum serve", .serialized)
struct StreamingCLITests {
    static let size = 1024 * 1024 * 1024

    @Test("1 GiB down and 1 GiB up (chunked) stream through the proxy, whose peak RSS stays under 64 MiB")
    func streaming() throws {
        let servers = try ProxiedBackend(name: "big")
        defer { servers.stop() }
        let (proxy, port) = (servers.proxy, servers.port)
        let before = try proxy.peakRSSKiB()

        let downloaded = try runCurl(["-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:\(port)/bytes?n=\(Self.size)"])
        #expect(downloaded == String(Self.size))

        // A sparse file reads as zeros without taking disk space.
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = try directory.file("upload", Data())
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.truncate(atOffset: UInt64(Self.size))
        try handle.close()
        let answer = try runCurl(["-X", "POST", "-H", "Transfer-Encoding: chunked", "-T", file, "http://127.0.0.1:\(port)/"])
        #expect(answer == "big received \(Self.size) bytes\n")

        let peak = try proxy.peakRSSKiB()
        print("streaming: proxy peak RSS \(peak) KiB after 2 × \(Self.size) bytes (\(before) KiB before)")
        #expect(peak < 64 * 1024, "peak RSS \(peak) KiB (before the transfers: \(before) KiB)")
    }
}

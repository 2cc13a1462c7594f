import Foundation
import Testing

@Suite("fulcrum demo")
struct DemoCLITests {
    @Test("fulcrum demo serves all three backend names to six curls and stops cleanly on SIGINT")
    func demo() throws {
        let binary = try Fulcrum.binary.get()
        let process = Process()
        process.executableURL = binary
        process.arguments = ["demo", "--port", "0"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // The first line names the port: "Fulcrum demo: balancing 127.0.0.1:PORT over …".
        var text = ""
        let handle = output.fileHandleForReading
        while !text.contains("Press Ctrl-C") {
            let data = handle.availableData
            guard !data.isEmpty else { break }
            text += String(decoding: data, as: UTF8.self)
        }
        let port = try #require(
            text.split(separator: " ").first { $0.hasPrefix("127.0.0.1:") }.flatMap { Int($0.dropFirst("127.0.0.1:".count)) }
        )
        var names: Set<String> = []
        for _ in 0..<6 {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            curl.arguments = ["curl", "-s", "--max-time", "10", "http://127.0.0.1:\(port)/"]
            let body = Pipe()
            curl.standardOutput = body
            try curl.run()
            let data = body.fileHandleForReading.readDataToEndOfFile()
            curl.waitUntilExit()
            names.insert(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(names == ["backend-1", "backend-2", "backend-3"])

        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }
}

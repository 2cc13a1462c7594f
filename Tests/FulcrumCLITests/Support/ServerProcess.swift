import Foundation
import Testing

/// A `fulcrum` process that keeps running (a server), started and stopped
/// by a test.
final class ServerProcess {
    let process = Process()
    private let output = Pipe()
    /// What the process printed before the line the test waited for.
    private(set) var printed = ""

    /// Starts `fulcrum arguments…` and waits until it prints `marker`
    /// (on stdout, or stderr where swift-log writes), or exits.
    init(_ arguments: [String], waitFor marker: String, stderr: Bool = false) throws {
        process.executableURL = try Fulcrum.binary.get()
        process.arguments = arguments
        if stderr {
            process.standardError = output
            process.standardOutput = FileHandle.nullDevice
        } else {
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        try waitFor(marker)
    }

    /// Reads on until the process has printed `marker` (or exits).
    func waitFor(_ marker: String) throws {
        let handle = output.fileHandleForReading
        while !printed.contains(marker) {
            let data = handle.availableData
            guard !data.isEmpty else { throw CLITestError("the process exited before printing \(marker): \(printed)") }
            printed += String(decoding: data, as: UTF8.self)
        }
    }

    /// The port printed right after `prefix`, as in `listening on 127.0.0.1:PORT`.
    func port(after prefix: String) throws -> Int {
        guard let range = printed.range(of: prefix) else { throw CLITestError("no \(prefix) in \(printed)") }
        let digits = printed[range.upperBound...].prefix { $0.isNumber }
        guard let port = Int(digits) else { throw CLITestError("no port after \(prefix) in \(printed)") }
        return port
    }

    /// The kernel's record of the process's peak resident memory, in KiB.
    func peakRSSKiB() throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { throw CLITestError("no VmHWM in /proc status") }
        return kib
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

/// `fulcrum backend` with `fulcrum serve` in front of it, both on ephemeral
/// loopback ports.
struct ProxiedBackend {
    let backend: ServerProcess
    let backendPort: Int
    let proxy: ServerProcess
    let port: Int

    init(name: String) throws {
        backend = try ServerProcess(["backend", "--name", name, "--listen", "127.0.0.1:0"], waitFor: "listening on")
        backendPort = try backend.port(after: "listening on 127.0.0.1:")
        proxy = try ServerProcess(
            ["serve", "--listen", "127.0.0.1:0", "--backend", "127.0.0.1:\(backendPort)"],
            waitFor: "address=127.0.0.1:",
            stderr: true
        )
        port = try proxy.port(after: "address=127.0.0.1:")
    }

    func stop() {
        proxy.stop()
        backend.stop()
    }
}

/// Runs curl and returns what it printed on stdout.
func runCurl(_ arguments: [String]) throws -> String {
    let curl = Process()
    curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    curl.arguments = ["curl", "-s", "--max-time", "120"] + arguments
    let output = Pipe()
    curl.standardOutput = output
    try curl.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    curl.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}


/// A loopback TCP port that was free a moment ago, for configs that name
/// real ports.
func freeLoopbackPort() throws -> Int {
    try Peer.freePort()
}

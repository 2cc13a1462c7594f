import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a CLI test could not even run the binary.
struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What one run of the `fulcrum` binary did.
struct CLIResult: Sendable {
    var arguments: [String]
    /// The exit status, or the signal number when `exitedNormally` is false.
    var status: Int32
    /// False when the process was killed by a signal (a crash or a trap).
    var exitedNormally: Bool
    /// True when the run hit the watchdog and was terminated.
    var timedOut: Bool
    var stdout: Data
    var stderr: Data

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// Standard output split at `\n` bytes (not at Swift `Character`s, which
    /// would treat `\r\n` as one); a trailing newline does not add an empty line.
    var stdoutLines: [String] { Self.lines(stdout) }
    var stderrLines: [String] { Self.lines(stderr) }

    /// Exited by itself with status 0.
    var succeeded: Bool { exitedNormally && !timedOut && status == 0 }

    /// For failure messages: the command, how it ended and the start of stderr.
    var summary: String {
        let how =
            timedOut ? "timed out" : exitedNormally ? "exit status \(status)" : "killed by signal \(status)"
        let command = (["fulcrum"] + arguments.map { $0.count > 60 ? String($0.prefix(60)) + "…" : $0 })
            .joined(separator: " ")
        return "`\(command)` → \(how); stdout \(stdout.count) bytes; stderr: \(stderrText.prefix(600).debugDescription)"
    }

    static func lines(_ data: Data) -> [String] {
        guard !data.isEmpty else { return [] }
        let bytes = [UInt8](data)
        var lines: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            var start = 0
            for index in 0..<buffer.count where buffer[index] == 0x0A {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self))
                start = index + 1
            }
            if start < buffer.count {
                lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start...]), as: UTF8.self))
            }
        }
        return lines
    }
}

/// A directory under the system temporary directory, removed by `remove()`.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fulcrum-cli-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `contents` to a file in this directory and returns its path.
    @discardableResult
    func file(_ name: String, _ contents: Data) throws -> String {
        let fileURL = url.appendingPathComponent(name)
        try contents.write(to: fileURL)
        return fileURL.path
    }

    @discardableResult
    func file(_ name: String, _ text: String) throws -> String {
        try file(name, Data(text.utf8))
    }

    func remove() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// Runs the real `fulcrum` executable that `swift build --build-tests` puts
/// next to the test executable.
enum Fulcrum {
    /// The binary, or why it could not be found.
    static let binary: Result<URL, CLITestError> = locateBinary()

    private static func locateBinary() -> Result<URL, CLITestError> {
        let fileManager = FileManager.default
        var executable: String?
        if let target = try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            executable = target
        } else if let first = CommandLine.arguments.first, !first.isEmpty {
            let url = URL(fileURLWithPath: first, relativeTo: URL(fileURLWithPath: fileManager.currentDirectoryPath))
            executable = url.standardizedFileURL.resolvingSymlinksInPath().path
        }
        guard let executable else {
            return .failure(CLITestError("cannot find the running test executable (no /proc/self/exe, no argv[0])"))
        }
        var candidates = [URL(fileURLWithPath: executable).deletingLastPathComponent()]
        // macOS: …/debug/FulcrumPackageTests.xctest/Contents/MacOS/FulcrumPackageTests
        if let range = executable.range(of: ".xctest/") {
            candidates.append(URL(fileURLWithPath: String(executable[..<range.lowerBound])).deletingLastPathComponent())
        }
        for directory in candidates {
            let path = directory.appendingPathComponent("fulcrum").path
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                fileManager.isExecutableFile(atPath: path)
            {
                return .success(URL(fileURLWithPath: path))
            }
        }
        return .failure(
            CLITestError(
                "the fulcrum binary is missing: looked for "
                    + candidates.map { $0.appendingPathComponent("fulcrum").path }.joined(separator: " and ")
                    + " (next to the test executable \(executable)); run `swift build --build-tests` first"
            )
        )
    }

    /// Runs `fulcrum arguments…` with `stdin` as standard input.
    ///
    /// Standard input, output and error are files, not pipes, so neither side
    /// can block on a full pipe however large the output. A watchdog
    /// terminates the process after `timeout` seconds so a hang fails the test
    /// instead of the whole run.
    static func run(_ arguments: [String], stdin: Data = Data(), timeout: Double = 120) throws -> CLIResult {
        let binary = try binary.get()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let inputPath = try directory.file("stdin", stdin)
        let outputPath = try directory.file("stdout", Data())
        let errorPath = try directory.file("stderr", Data())

        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        let error = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer {
            try? input.close()
            try? output.close()
            try? error.close()
        }

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            process.terminate()
            finished.wait()
        }
        process.waitUntilExit()

        return CLIResult(
            arguments: arguments,
            status: process.terminationStatus,
            exitedNormally: process.terminationReason == .exit,
            timedOut: timedOut,
            stdout: try Data(contentsOf: URL(fileURLWithPath: outputPath)),
            stderr: try Data(contentsOf: URL(fileURLWithPath: errorPath))
        )
    }

    /// Runs with `lines` on standard input, each followed by `terminator`.
    static func run(
        _ arguments: [String],
        lines: [String],
        terminator: String = "\n",
        timeout: Double = 120
    ) throws -> CLIResult {
        try run(arguments, stdin: input(lines, terminator: terminator), timeout: timeout)
    }

    /// `lines`, each followed by `terminator`, as UTF-8.
    static func input(_ lines: [String], terminator: String = "\n") -> Data {
        guard !lines.isEmpty else { return Data() }
        return Data((lines.joined(separator: terminator) + terminator).utf8)
    }

    /// `key-0` … `key-(count−1)`, the keys the reference vectors use.
    static func keys(_ count: Int) -> [String] {
        (0..<count).map { "key-\($0)" }
    }

    /// `["--node", spec, "--node", spec, …]`.
    static func nodeArguments(_ specs: [String]) -> [String] {
        specs.flatMap { ["--node", $0] }
    }

    /// `ring lookup --algorithm ALG` with `--node` for each spec, then `extra`.
    static func lookupArguments(_ algorithm: String, _ nodes: [String], _ extra: [String] = []) -> [String] {
        ["ring", "lookup", "--algorithm", algorithm] + nodeArguments(nodes) + extra
    }
}

/// Counts of each distinct line.
func tally(_ lines: [String]) -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in lines { counts[line, default: 0] += 1 }
    return counts
}

/// Records one issue listing the first few differences between two line
/// lists, instead of one expectation per line. Returns the mismatch count.
@discardableResult
func expectSameLines(
    _ actual: [String],
    _ expected: [String],
    _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) -> Int {
    #expect(
        actual.count == expected.count,
        "\(label): \(actual.count) lines, expected \(expected.count)",
        sourceLocation: sourceLocation
    )
    var mismatches: [Int] = []
    for index in 0..<min(actual.count, expected.count) where actual[index] != expected[index] {
        mismatches.append(index)
    }
    if !mismatches.isEmpty {
        let examples = mismatches.prefix(5).map { "line \($0): got \(actual[$0].debugDescription), expected \(expected[$0].debugDescription)" }
        Issue.record(
            "\(label): \(mismatches.count) of \(expected.count) lines differ; \(examples.joined(separator: "; "))",
            sourceLocation: sourceLocation
        )
    }
    return mismatches.count
}

/// The nodes each algorithm is given in tests: `haproxy` needs ids, `jump`
/// takes weight 1 only; the others get a mix of weights when `weighted`.
func nodeSpecs(for algorithm: String, count: Int, weighted: Bool = true) -> [String] {
    (1...count).map { i in
        let weight = weighted && algorithm != "jump" ? 1 + i % 3 : 1
        switch algorithm {
        case "haproxy": return "s\(i)=\(weight)#\(i)"
        case "jump": return "node-\(i)"
        default: return weighted ? "10.0.0.\(i):11211=\(weight)" : "10.0.0.\(i):11211"
        }
    }
}

/// Every algorithm `ring lookup` accepts.
let allAlgorithms = ["ring", "ketama", "nginx", "maglev", "jump", "rendezvous", "modulo", "haproxy"]

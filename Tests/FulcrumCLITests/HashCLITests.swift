import Foundation
import Testing

@Suite("fulcrum hash")
struct HashCLITests {
    struct Known: Sendable, CustomTestStringConvertible {
        var function: String
        var input: String
        var digest: String
        var testDescription: String { "\(function) \(input.debugDescription)" }
    }

    static let known: [Known] = [
        Known(function: "crc32", input: "123456789", digest: "cbf43926"),
        Known(function: "md5", input: "abc", digest: "900150983cd24fb0d6963f7d28e17f72"),
        Known(function: "md5", input: "", digest: "d41d8cd98f00b204e9800998ecf8427e"),
        Known(function: "fnv1a_64", input: "a", digest: "af63dc4c8601ec8c"),
        Known(function: "fnv1a_32", input: "a", digest: "e40c292c"),
        Known(function: "murmur3_128", input: "hello", digest: "029bbd41b3a7d8cb191dae486a901e5b"),
        Known(function: "xxh64", input: "", digest: "ef46db3751d8e999"),
        Known(function: "xxh32", input: "", digest: "02cc5d05"),
    ]

    @Test("published values, as an argument and on stdin", arguments: known)
    func knownValue(_ known: Known) throws {
        let argument = try Fulcrum.run(["hash", known.function, known.input])
        #expect(argument.succeeded, "\(argument.summary)")
        #expect(argument.stdoutText == known.digest + "\n")
        #expect(argument.stderr.isEmpty)
        let stdin = try Fulcrum.run(["hash", known.function], lines: [known.input])
        #expect(stdin.stdoutText == known.digest + "\n")
    }

    @Test("several strings give one line each, in order")
    func severalStrings() throws {
        let strings = ["alpha", "beta", "", "gamma", "alpha"]
        let together = try Fulcrum.run(["hash", "md5"] + strings)
        #expect(together.succeeded, "\(together.summary)")
        let lines = together.stdoutLines
        #expect(lines.count == strings.count)
        for (index, string) in strings.enumerated() {
            let alone = try Fulcrum.run(["hash", "md5", string])
            #expect(alone.stdoutLines == [lines[index]], "string \(index)")
        }
        #expect(lines[0] == lines[4])
        #expect(lines[2] == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Set(lines).count == 4)
    }

    @Test("xxh64 on stdin lines equals xxh64 of each argument")
    func stdinEqualsArguments() throws {
        let strings = Fulcrum.keys(300) + ["", "with space", "ünïcödé", "-dash"]
        let fromArguments = try Fulcrum.run(["hash", "xxh64", "--"] + strings)
        let fromStdin = try Fulcrum.run(["hash", "xxh64"], lines: strings)
        #expect(fromArguments.succeeded, "\(fromArguments.summary)")
        #expect(fromStdin.succeeded, "\(fromStdin.summary)")
        #expect(fromStdin.stdoutLines.count == strings.count)
        #expect(fromStdin.stdout == fromArguments.stdout)
        #expect(fromStdin.stdoutLines.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) && $0 == $0.lowercased() })
    }

    @Test("stdin: CRLF is stripped, a missing final newline is fine, empty input prints nothing")
    func stdinLineEndings() throws {
        let crlf = try Fulcrum.run(["hash", "md5"], stdin: Data("abc\r\nabc".utf8))
        #expect(crlf.stdoutLines == ["900150983cd24fb0d6963f7d28e17f72", "900150983cd24fb0d6963f7d28e17f72"])
        let blank = try Fulcrum.run(["hash", "md5"], stdin: Data("\n\n".utf8))
        #expect(blank.stdoutLines == ["d41d8cd98f00b204e9800998ecf8427e", "d41d8cd98f00b204e9800998ecf8427e"])
        let empty = try Fulcrum.run(["hash", "md5"])
        #expect(empty.succeeded)
        #expect(empty.stdout.isEmpty)
    }

    @Test("lines longer than the 64 KiB read buffer hash the same as arguments")
    func longLines() throws {
        let lengths = [65_535, 65_536, 65_537, 100_000, 3]
        let strings = lengths.enumerated().map { index, length in
            String(repeating: String(UnicodeScalar(UInt8(97 + index))), count: length)
        }
        let fromStdin = try Fulcrum.run(["hash", "xxh3"], lines: strings)
        #expect(fromStdin.succeeded, "\(fromStdin.summary)")
        #expect(fromStdin.stdoutLines.count == strings.count)
        for (index, string) in strings.enumerated() {
            let alone = try Fulcrum.run(["hash", "xxh3", string])
            #expect(alone.stdoutLines.first == fromStdin.stdoutLines[safe: index], "line of \(string.utf8.count) bytes")
        }
    }

    /// `fulcrum hash` function → `hashes.json` field.
    static let fields: [String: String] = [
        "xxh64": "xxh64_seed0", "xxh32": "xxh32_seed0", "xxh3": "xxh3_64_seed0",
        "murmur3_32": "murmur3_x86_32_seed0", "murmur3_128": "murmur3_x64_128_seed0_bytes",
        "crc32": "crc32_zlib", "fnv1_32": "fnv1_32", "fnv1a_32": "fnv1a_32",
        "fnv1_64": "fnv1_64", "fnv1a_64": "fnv1a_64", "md5": "md5",
    ]

    static func hashVectors() throws -> [[String: Any]] {
        let root = try CLIVectors.object("hashes.json")
        return try #require(root["vectors"] as? [[String: Any]], "hashes.json has no vectors array")
    }

    @Test("every function matches hashes.json for every input that fits on a line", arguments: fields.keys.sorted())
    func vectorsOnStdin(function: String) throws {
        let field = try #require(Self.fields[function])
        // A line cannot hold "\n", and a trailing "\r" is taken as part of CRLF.
        let rows = try Self.hashVectors().filter { row in
            guard let input = row["input"] as? String else { return false }
            return !input.utf8.contains(0x0A) && input.utf8.last != 0x0D
        }
        #expect(rows.count >= 490)
        let inputs = rows.map { $0["input"] as! String }
        let expected = try rows.map { try #require($0[field] as? String, "missing \(field)") }
        let result = try Fulcrum.run(["hash", function], lines: inputs)
        #expect(result.succeeded, "\(result.summary)")
        expectSameLines(result.stdoutLines, expected, "\(function) over hashes.json")
    }

    @Test("hashes.json through arguments too (short, NUL-free inputs)", arguments: ["murmur3_32", "fnv1_64", "crc32"])
    func vectorsAsArguments(function: String) throws {
        let field = try #require(Self.fields[function])
        let rows = try Self.hashVectors().filter { row in
            guard let input = row["input"] as? String else { return false }
            return !input.utf8.contains(0) && input.utf8.count <= 4_096
        }
        #expect(rows.count >= 400)
        let result = try Fulcrum.run(["hash", function, "--"] + rows.map { $0["input"] as! String })
        #expect(result.succeeded, "\(result.summary)")
        // An argument may hold "\n": count lines by digest, not by input.
        expectSameLines(result.stdoutLines, rows.map { $0[field] as! String }, "\(function) arguments")
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

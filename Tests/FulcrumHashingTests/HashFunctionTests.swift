import FulcrumHashing
import Testing

/// One row of `hashes.json`: an input string and the reference digests of its UTF-8 bytes.
struct HashVector: Sendable {
    var input: String
    var utf8Length: Int
    /// Keyed by the file's field names (`xxh64_seed0`, `md5`, ...), lowercase hex.
    var expected: [String: String]

    /// The input for failure messages: quoted and escaped, shortened if long.
    var label: String {
        let limit = 40
        guard input.count > limit else { return input.debugDescription }
        return String(input.prefix(limit)).debugDescription + "… (\(utf8Length) UTF-8 bytes)"
    }
}

/// An entry of `published_vector_checks`: a value published by the algorithm's author or a standard.
struct PublishedCheck: Sendable {
    var function: String
    var input: String
    var published: String
    var source: String
}

/// `hashes.json`, parsed once.
struct HashVectorFile: Sendable {
    var vectors: [HashVector]
    var published: [PublishedCheck]

    static let shared = Result { try HashVectorFile(name: "hashes.json") }

    init(name: String) throws {
        let root = try Vectors.load(name)
        let rows: [[String: Any]] = try Vectors.field(root, "vectors")
        vectors = try rows.map { row in
            var expected: [String: String] = [:]
            for (key, value) in row where key != "input" && key != "utf8_len" {
                guard let digest = value as? String else {
                    throw Vectors.FileError(description: "\(name): field '\(key)' is not a string")
                }
                expected[key] = digest
            }
            return HashVector(
                input: try Vectors.field(row, "input"),
                utf8Length: try Vectors.field(row, "utf8_len"),
                expected: expected
            )
        }
        let checks: [[String: Any]] = try Vectors.field(root, "published_vector_checks")
        published = try checks.map { check in
            PublishedCheck(
                function: try Vectors.field(check, "function"),
                input: try Vectors.field(check, "input"),
                published: try Vectors.field(check, "published"),
                source: try Vectors.field(check, "source")
            )
        }
        let count: Int = try Vectors.field(root, "count")
        guard count == vectors.count else {
            throw Vectors.FileError(description: "\(name): count is \(count) but there are \(vectors.count) vectors")
        }
    }
}

/// The functions under test, by the field names of `hashes.json`, each rendered
/// the way the file renders it.
enum VectorFunction: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case xxh32_seed0
    case xxh64_seed0
    case xxh64_seed1
    case xxh3_64_seed0
    case murmur3_x86_32_seed0
    case murmur3_x64_128_seed0_h1
    case murmur3_x64_128_seed0_h2
    case murmur3_x64_128_seed0_bytes
    case crc32_zlib
    case fnv1_32
    case fnv1a_32
    case fnv1_64
    case fnv1a_64
    case md5

    var testDescription: String { rawValue }

    /// The file's rendering of this function's output for `bytes`.
    func digest(_ bytes: UnsafeRawBufferPointer) -> String {
        switch self {
        case .xxh32_seed0: hex(XXHash32.hash(bytes))
        case .xxh64_seed0: hex(XXHash64.hash(bytes))
        case .xxh64_seed1: hex(XXHash64.hash(bytes, seed: 1))
        case .xxh3_64_seed0: hex(XXH3.hash64(bytes))
        case .murmur3_x86_32_seed0: hex(Murmur3.x86_32(bytes))
        case .murmur3_x64_128_seed0_h1: hex(Murmur3.x64_128(bytes).h1)
        case .murmur3_x64_128_seed0_h2: hex(Murmur3.x64_128(bytes).h2)
        case .murmur3_x64_128_seed0_bytes:
            { (h: (h1: UInt64, h2: UInt64)) in hex(bytes: littleEndianBytes(h.h1) + littleEndianBytes(h.h2)) }(
                Murmur3.x64_128(bytes)
            )
        case .crc32_zlib: hex(CRC32.checksum(bytes))
        case .fnv1_32: hex(FNV.fnv1_32(bytes))
        case .fnv1a_32: hex(FNV.fnv1a_32(bytes))
        case .fnv1_64: hex(FNV.fnv1_64(bytes))
        case .fnv1a_64: hex(FNV.fnv1a_64(bytes))
        case .md5: hex(bytes: MD5.hash(bytes).bytes)
        }
    }

    /// The same through the `String` overloads.
    func digest(_ string: String) -> String {
        switch self {
        case .xxh32_seed0: hex(XXHash32.hash(string))
        case .xxh64_seed0: hex(XXHash64.hash(string))
        case .xxh64_seed1: hex(XXHash64.hash(string, seed: 1))
        case .xxh3_64_seed0: hex(XXH3.hash64(string))
        case .murmur3_x86_32_seed0: hex(Murmur3.x86_32(string))
        case .murmur3_x64_128_seed0_h1: hex(Murmur3.x64_128(string).h1)
        case .murmur3_x64_128_seed0_h2: hex(Murmur3.x64_128(string).h2)
        case .murmur3_x64_128_seed0_bytes:
            { (h: (h1: UInt64, h2: UInt64)) in hex(bytes: littleEndianBytes(h.h1) + littleEndianBytes(h.h2)) }(
                Murmur3.x64_128(string)
            )
        case .crc32_zlib: hex(CRC32.checksum(string))
        case .fnv1_32: hex(FNV.fnv1_32(string))
        case .fnv1a_32: hex(FNV.fnv1a_32(string))
        case .fnv1_64: hex(FNV.fnv1_64(string))
        case .fnv1a_64: hex(FNV.fnv1a_64(string))
        case .md5: hex(bytes: MD5.hash(string).bytes)
        }
    }
}

@Suite("Hash functions against reference vectors")
struct HashFunctionTests {
    var file: HashVectorFile { get throws { try HashVectorFile.shared.get() } }

    @Test("The vector file is what the tests expect")
    func vectorFileShape() throws {
        let file = try file
        #expect(file.vectors.count == 500)
        #expect(file.published.count == 18)
        let names = Set(VectorFunction.allCases.map(\.rawValue))
        for vector in file.vectors {
            #expect(Set(vector.expected.keys) == names, "fields of vector \(vector.label)")
            // Guards against the JSON decoder changing the string (NULs, surrogate pairs, BOM, NBSP).
            #expect(vector.input.utf8.count == vector.utf8Length, "UTF-8 length of \(vector.label)")
        }
    }

    /// Every vector, through the buffer API at an aligned and a misaligned
    /// address (the functions read with unaligned loads) and through the String overload.
    @Test("Matches every vector", arguments: VectorFunction.allCases)
    func matchesVectors(_ function: VectorFunction) throws {
        let file = try file
        var mismatches = 0
        for vector in file.vectors {
            let expected = try #require(vector.expected[function.rawValue], "no \(function) for \(vector.label)")
            let bytes = Array(vector.input.utf8)
            let aligned = bytes.withUnsafeBytes { function.digest($0) }
            let misaligned = ([0xA5] + bytes).withUnsafeBytes {
                function.digest(UnsafeRawBufferPointer(rebasing: $0.dropFirst()))
            }
            let viaString = function.digest(vector.input)
            #expect(aligned == expected, "\(function)(\(vector.label)) = \(aligned), expected \(expected)")
            #expect(
                misaligned == expected,
                "\(function)(\(vector.label)) at an odd address = \(misaligned), expected \(expected)"
            )
            #expect(viaString == expected, "\(function)(String \(vector.label)) = \(viaString), expected \(expected)")
            if aligned != expected || misaligned != expected || viaString != expected {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(function): \(mismatches) of \(file.vectors.count) vectors mismatch")
    }

    @Test("Matches the published check values")
    func publishedChecks() throws {
        let file = try file
        for check in file.published {
            let function = try #require(VectorFunction(rawValue: check.function), "unknown function \(check.function)")
            let produced = function.digest(check.input)
            #expect(
                produced == check.published,
                "\(function)(\(check.input.debugDescription)) = \(produced), published \(check.published) (\(check.source))"
            )
        }
    }

    @Test("Well-known values, independent of the vector file")
    func wellKnownValues() {
        #expect(CRC32.checksum("123456789") == 0xCBF4_3926)  // CRC-32/ISO-HDLC check value
        #expect(XXHash32.hash("") == 0x02CC_5D05)
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXH3.hash64("") == 0x2D06_8005_38D3_94C2)
        #expect(FNV.fnv1a_32("foobar") == 0xBF9C_F968)
        #expect(FNV.fnv1a_64("foobar") == 0x8594_4171_F739_67E8)
        #expect(Murmur3.x86_32("hello") == 0x248B_FA47)
        // RFC 1321 appendix A.5.
        let suite: [(String, String)] = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f"
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a"
            ),
        ]
        for (input, expected) in suite {
            let produced = hex(bytes: MD5.hash(input).bytes)
            #expect(produced == expected, "md5(\(input.debugDescription)) = \(produced), expected \(expected)")
        }
    }

    @Test("XXHash seeds other than 0 and 1 change the result")
    func seedsMatter() {
        #expect(XXHash64.hash("key", seed: 2) != XXHash64.hash("key", seed: 0))
        #expect(XXHash32.hash("key", seed: 2) != XXHash32.hash("key", seed: 0))
        #expect(Murmur3.x86_32("key", seed: 2) != Murmur3.x86_32("key", seed: 0))
        #expect(Murmur3.x64_128("key", seed: 2).h1 != Murmur3.x64_128("key", seed: 0).h1)
    }

    @Test("CRC32 incremental update over split input equals the one-shot checksum")
    func crc32Incremental() throws {
        let file = try file
        #expect(CRC32.initial == 0xFFFF_FFFF)
        #expect(CRC32.finalize(CRC32.initial) == 0)
        for vector in file.vectors {
            let bytes = Array(vector.input.utf8)
            bytes.withUnsafeBytes { buffer in
                let whole = CRC32.checksum(buffer)
                let n = buffer.count
                // Every split point for short inputs; a spread of them for long ones.
                let splits = n <= 80 ? Array(0...n) : [0, 1, 7, 8, 9, n / 3, n / 2, n - 9, n - 8, n - 1, n]
                for split in splits {
                    var crc = CRC32.update(CRC32.initial, UnsafeRawBufferPointer(rebasing: buffer[..<split]))
                    crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: buffer[split...]))
                    let split2 = CRC32.finalize(crc)
                    #expect(
                        split2 == whole,
                        "crc32_zlib(\(vector.label)) split at \(split) = \(hex(split2)), one-shot \(hex(whole))"
                    )
                }
                // Three uneven pieces, and byte by byte.
                let a = n / 5
                let b = n - n / 7
                var crc = CRC32.initial
                crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: buffer[..<a]))
                crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: buffer[a..<b]))
                crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: buffer[b...]))
                #expect(CRC32.finalize(crc) == whole, "crc32_zlib(\(vector.label)) in three pieces")
                if n <= 300 {
                    var bytewise = CRC32.initial
                    for i in 0..<n {
                        bytewise = CRC32.update(bytewise, UnsafeRawBufferPointer(rebasing: buffer[i..<(i + 1)]))
                    }
                    #expect(CRC32.finalize(bytewise) == whole, "crc32_zlib(\(vector.label)) byte by byte")
                }
            }
        }
    }

    @Test("MD5 digest bytes are the state words little-endian, in order")
    func md5DigestLayout() throws {
        let file = try file
        for vector in file.vectors {
            let digest = MD5.hash(vector.input)
            let fromWords =
                littleEndianBytes(digest.words.0) + littleEndianBytes(digest.words.1)
                + littleEndianBytes(digest.words.2) + littleEndianBytes(digest.words.3)
            #expect(digest.bytes == fromWords, "md5(\(vector.label)) bytes vs words")
            #expect(hex(bytes: fromWords) == vector.expected["md5"], "md5(\(vector.label)) words")
            #expect(digest == MD5.Digest(words: digest.words))
        }
        let empty = MD5.hash("")
        #expect(empty.words.0 == 0xD98C_1DD4)  // d41d8cd9 read little-endian
        #expect(Set([empty, MD5.hash(""), MD5.hash("a")]).count == 2)
    }
}

/// The stable hash functions, by the names users write in config and on the
/// command line.
///
/// Every function here is byte-exact with its reference implementation and
/// tested against published vectors. None uses Swift's `Hasher`, which is
/// seeded per process.
public enum HashFunction: String, Sendable, CaseIterable, CustomStringConvertible {
    case xxh64
    case xxh32
    case xxh3
    case murmur3_32
    case murmur3_128
    case crc32
    case fnv1_32
    case fnv1a_32
    case fnv1_64
    case fnv1a_64
    case md5

    public var description: String { rawValue }

    /// The accepted names, for error messages.
    public static var acceptedNames: String { allCases.map(\.rawValue).joined(separator: ", ") }

    /// How many bits of output ``hash64(_:)`` carries. 32-bit functions put
    /// theirs in the high half, so that placement on a 64-bit circle keeps
    /// their order.
    public var bitWidth: Int {
        switch self {
        case .xxh32, .murmur3_32, .crc32, .fnv1_32, .fnv1a_32: 32
        case .xxh64, .xxh3, .murmur3_128, .fnv1_64, .fnv1a_64, .md5: 64
        }
    }

    /// The value used for placement on a 64-bit circle.
    ///
    /// 64-bit functions return their value; 32-bit ones return it shifted into
    /// the high 32 bits; `murmur3_128` returns h1 and `md5` the first eight
    /// digest bytes read little-endian.
    @inlinable
    public func hash64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        switch self {
        case .xxh64: XXHash64.hash(bytes)
        case .xxh32: UInt64(XXHash32.hash(bytes)) << 32
        case .xxh3: XXH3.hash64(bytes)
        case .murmur3_32: UInt64(Murmur3.x86_32(bytes)) << 32
        case .murmur3_128: Murmur3.x64_128(bytes).h1
        case .crc32: UInt64(CRC32.checksum(bytes)) << 32
        case .fnv1_32: UInt64(FNV.fnv1_32(bytes)) << 32
        case .fnv1a_32: UInt64(FNV.fnv1a_32(bytes)) << 32
        case .fnv1_64: FNV.fnv1_64(bytes)
        case .fnv1a_64: FNV.fnv1a_64(bytes)
        case .md5:
            { (words: (UInt32, UInt32, UInt32, UInt32)) in UInt64(words.1) << 32 | UInt64(words.0) }(
                MD5.hash(bytes).words
            )
        }
    }

    /// The digest as users see it: lowercase hex of the integer (`%08x`,
    /// `%016x`) for the integer-valued functions, and the digest bytes in order
    /// for `md5` and `murmur3_128` (as `md5sum` and Guava print them).
    public func hexDigest(_ bytes: UnsafeRawBufferPointer) -> String {
        switch self {
        case .xxh64: Hex.encode(XXHash64.hash(bytes))
        case .xxh32: Hex.encode(XXHash32.hash(bytes))
        case .xxh3: Hex.encode(XXH3.hash64(bytes))
        case .murmur3_32: Hex.encode(Murmur3.x86_32(bytes))
        case .murmur3_128:
            { (h: (h1: UInt64, h2: UInt64)) in Hex.encodeLittleEndian(h.h1) + Hex.encodeLittleEndian(h.h2) }(
                Murmur3.x64_128(bytes)
            )
        case .crc32: Hex.encode(CRC32.checksum(bytes))
        case .fnv1_32: Hex.encode(FNV.fnv1_32(bytes))
        case .fnv1a_32: Hex.encode(FNV.fnv1a_32(bytes))
        case .fnv1_64: Hex.encode(FNV.fnv1_64(bytes))
        case .fnv1a_64: Hex.encode(FNV.fnv1a_64(bytes))
        case .md5: Hex.encode(bytes: MD5.hash(bytes).bytes)
        }
    }
}

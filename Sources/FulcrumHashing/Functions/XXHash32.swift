/// XXH32, the 32-bit member of Yann Collet's xxHash family.
///
/// Byte-exact with `XXH32()` from the reference implementation
/// (<https://github.com/Cyan4973/xxHash>, `xxhash.h`; algorithm described in
/// `doc/xxhash_spec.md`). The output is the integer `XXH32()` returns; its
/// canonical (printed) form is that integer in big-endian hex.
///
/// Not cryptographic. On 64-bit machines ``XXHash64`` and ``XXH3`` are faster.
public enum XXHash32 {
    @inlinable static var prime1: UInt32 { 0x9E37_79B1 }
    @inlinable static var prime2: UInt32 { 0x85EB_CA77 }
    @inlinable static var prime3: UInt32 { 0xC2B2_AE3D }
    @inlinable static var prime4: UInt32 { 0x27D4_EB2F }
    @inlinable static var prime5: UInt32 { 0x1656_67B1 }

    /// The XXH32 hash of `bytes` with `seed`.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let length = bytes.count
        guard let base = bytes.baseAddress, length > 0 else {
            return avalanche(seed &+ prime5)
        }
        var offset = 0
        var h: UInt32
        if length >= 16 {
            var v1 = seed &+ prime1 &+ prime2
            var v2 = seed &+ prime2
            var v3 = seed
            var v4 = seed &- prime1
            let limit = length - 16
            while offset <= limit {
                v1 = round(v1, read32(base, offset))
                v2 = round(v2, read32(base, offset + 4))
                v3 = round(v3, read32(base, offset + 8))
                v4 = round(v4, read32(base, offset + 12))
                offset += 16
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
        } else {
            h = seed &+ prime5
        }
        // XXH32 adds the length modulo 2^32, as the reference's `(xxh_u32)len`.
        h &+= UInt32(truncatingIfNeeded: length)

        while offset + 4 <= length {
            h &+= read32(base, offset) &* prime3
            h = rotl(h, 17) &* prime4
            offset += 4
        }
        while offset < length {
            h &+= UInt32(base.load(fromByteOffset: offset, as: UInt8.self)) &* prime5
            h = rotl(h, 11) &* prime1
            offset += 1
        }
        return avalanche(h)
    }

    /// The XXH32 hash of the string's UTF-8 bytes with `seed`.
    @inlinable
    public static func hash(_ string: String, seed: UInt32 = 0) -> UInt32 {
        string.withUTF8Bytes { hash($0, seed: seed) }
    }

    @inlinable @inline(__always)
    static func round(_ acc: UInt32, _ input: UInt32) -> UInt32 {
        rotl(acc &+ input &* prime2, 13) &* prime1
    }

    @inlinable @inline(__always)
    static func avalanche(_ hash: UInt32) -> UInt32 {
        var h = hash
        h ^= h &>> 15
        h &*= prime2
        h ^= h &>> 13
        h &*= prime3
        h ^= h &>> 16
        return h
    }

    @inlinable @inline(__always)
    static func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 {
        (x &<< r) | (x &>> (32 &- r))
    }

    @inlinable @inline(__always)
    static func read32(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

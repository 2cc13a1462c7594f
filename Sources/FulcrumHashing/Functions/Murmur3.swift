/// MurmurHash3 by Austin Appleby.
///
/// Byte-exact with `MurmurHash3_x86_32` and `MurmurHash3_x64_128` from
/// SMHasher's `MurmurHash3.cpp` (<https://github.com/aappleby/smhasher>), the
/// code that Python's `mmh3`, Guava's `Hashing.murmur3_32_fixed()`/`murmur3_128()`
/// and pymemcache's `RendezvousHash` reproduce. Tail bytes are read unsigned,
/// as in the reference (some ports sign-extend them and differ on bytes >= 0x80).
///
/// Not cryptographic.
public enum Murmur3 {
    /// `MurmurHash3_x86_32` of `bytes` with `seed`: the 32-bit result as an integer
    /// (`mmh3.hash(bytes, seed, signed=False)`).
    @inlinable
    public static func x86_32(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        let c1: UInt32 = 0xCC9E_2D51
        let c2: UInt32 = 0x1B87_3593
        let length = bytes.count
        var h1 = seed
        guard let base = bytes.baseAddress, length > 0 else {
            return fmix32(h1)
        }
        let blockEnd = length & ~3
        var offset = 0
        while offset < blockEnd {
            var k1 = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            k1 &*= c1
            k1 = rotl32(k1, 15)
            k1 &*= c2
            h1 ^= k1
            h1 = rotl32(h1, 13)
            h1 = h1 &* 5 &+ 0xE654_6B64
            offset += 4
        }
        let tail = length & 3
        if tail > 0 {
            var k1: UInt32 = 0
            if tail >= 3 { k1 ^= UInt32(base.load(fromByteOffset: blockEnd + 2, as: UInt8.self)) &<< 16 }
            if tail >= 2 { k1 ^= UInt32(base.load(fromByteOffset: blockEnd + 1, as: UInt8.self)) &<< 8 }
            k1 ^= UInt32(base.load(fromByteOffset: blockEnd, as: UInt8.self))
            k1 &*= c1
            k1 = rotl32(k1, 15)
            k1 &*= c2
            h1 ^= k1
        }
        // The reference XORs in `len` as a 32-bit int.
        h1 ^= UInt32(truncatingIfNeeded: length)
        return fmix32(h1)
    }

    /// `MurmurHash3_x86_32` of the string's UTF-8 bytes with `seed`.
    @inlinable
    public static func x86_32(_ string: String, seed: UInt32 = 0) -> UInt32 {
        string.withUTF8Bytes { x86_32($0, seed: seed) }
    }

    /// `MurmurHash3_x64_128` of `bytes` with `seed`.
    ///
    /// Returns `(h1, h2)` exactly as MurmurHash3_x64_128's two output words; digest bytes are
    /// h1 little-endian then h2 little-endian (Guava's `HashCode.toString()`, `mmh3.hash_bytes`).
    /// As a 128-bit integer (`mmh3.hash128(..., signed=False)`) h1 is the low half.
    @inlinable
    public static func x64_128(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> (h1: UInt64, h2: UInt64) {
        let c1: UInt64 = 0x87C3_7B91_1142_53D5
        let c2: UInt64 = 0x4CF5_AD43_2745_937F
        let length = bytes.count
        var h1 = UInt64(seed)
        var h2 = UInt64(seed)
        if let base = bytes.baseAddress, length > 0 {
            let blockEnd = length & ~15
            var offset = 0
            while offset < blockEnd {
                var k1 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                var k2 = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))

                k1 &*= c1
                k1 = rotl64(k1, 31)
                k1 &*= c2
                h1 ^= k1

                h1 = rotl64(h1, 27)
                h1 &+= h2
                h1 = h1 &* 5 &+ 0x52DC_E729

                k2 &*= c2
                k2 = rotl64(k2, 33)
                k2 &*= c1
                h2 ^= k2

                h2 = rotl64(h2, 31)
                h2 &+= h1
                h2 = h2 &* 5 &+ 0x3849_5AB5

                offset += 16
            }
            let tail = length & 15
            if tail > 8 {
                var k2: UInt64 = 0
                var i = tail - 1
                while i >= 8 {
                    k2 ^= UInt64(base.load(fromByteOffset: blockEnd + i, as: UInt8.self)) &<< UInt64(8 * (i - 8))
                    i -= 1
                }
                k2 &*= c2
                k2 = rotl64(k2, 33)
                k2 &*= c1
                h2 ^= k2
            }
            if tail > 0 {
                var k1: UInt64 = 0
                var i = min(tail, 8) - 1
                while i >= 0 {
                    k1 ^= UInt64(base.load(fromByteOffset: blockEnd + i, as: UInt8.self)) &<< UInt64(8 * i)
                    i -= 1
                }
                k1 &*= c1
                k1 = rotl64(k1, 31)
                k1 &*= c2
                h1 ^= k1
            }
        }
        let len64 = UInt64(truncatingIfNeeded: length)
        h1 ^= len64
        h2 ^= len64
        h1 &+= h2
        h2 &+= h1
        h1 = fmix64(h1)
        h2 = fmix64(h2)
        h1 &+= h2
        h2 &+= h1
        return (h1, h2)
    }

    /// `MurmurHash3_x64_128` of the string's UTF-8 bytes with `seed`.
    @inlinable
    public static func x64_128(_ string: String, seed: UInt32 = 0) -> (h1: UInt64, h2: UInt64) {
        string.withUTF8Bytes { x64_128($0, seed: seed) }
    }

    @inlinable @inline(__always)
    static func fmix32(_ hash: UInt32) -> UInt32 {
        var h = hash
        h ^= h &>> 16
        h &*= 0x85EB_CA6B
        h ^= h &>> 13
        h &*= 0xC2B2_AE35
        h ^= h &>> 16
        return h
    }

    @inlinable @inline(__always)
    static func fmix64(_ hash: UInt64) -> UInt64 {
        var h = hash
        h ^= h &>> 33
        h &*= 0xFF51_AFD7_ED55_8CCD
        h ^= h &>> 33
        h &*= 0xC4CE_B9FE_1A85_EC53
        h ^= h &>> 33
        return h
    }

    @inlinable @inline(__always)
    static func rotl32(_ x: UInt32, _ r: UInt32) -> UInt32 {
        (x &<< r) | (x &>> (32 &- r))
    }

    @inlinable @inline(__always)
    static func rotl64(_ x: UInt64, _ r: UInt64) -> UInt64 {
        (x &<< r) | (x &>> (64 &- r))
    }
}

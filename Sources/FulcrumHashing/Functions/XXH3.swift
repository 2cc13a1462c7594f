/// XXH3, 64-bit variant: xxHash's newest and fastest member.
///
/// Byte-exact with `XXH3_64bits()` from the reference implementation
/// (<https://github.com/Cyan4973/xxHash>, `xxhash.h`, v0.8.x; algorithm
/// described in `doc/xxhash_spec.md`): seed 0 and the default 192-byte secret
/// `XXH3_kSecret`. The output is the integer `XXH3_64bits()` returns; its
/// canonical (printed) form is that integer in big-endian hex.
///
/// This is the portable scalar path of the reference (the SIMD paths compute
/// the same values). Not cryptographic.
public enum XXH3 {
    /// The XXH3 64-bit hash of `bytes` (`XXH3_64bits`: seed 0, default secret).
    @inlinable
    public static func hash64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let length = bytes.count
        guard let base = bytes.baseAddress, length > 0 else {
            // XXH64_avalanche(seed ^ (readLE64(secret+56) ^ readLE64(secret+64)))
            return XXHash64.avalanche(0x8726_F910_5DC2_1DDC)
        }
        if length <= 16 {
            return hashShort(base, length)
        }
        if length <= 128 {
            return hash17to128(base, length)
        }
        return hashLarge(base, length)
    }

    /// The XXH3 64-bit hash of the string's UTF-8 bytes.
    @inlinable
    public static func hash64(_ string: String) -> UInt64 {
        string.withUTF8Bytes { hash64($0) }
    }

    // MARK: - 1 to 16 bytes

    /// 1...16 bytes. The secret words these lengths use are folded into
    /// constants (seed 0), each noted with the `XXH3_kSecret` bytes it comes from.
    @inlinable @inline(__always)
    static func hashShort(_ base: UnsafeRawPointer, _ length: Int) -> UInt64 {
        let len64 = UInt64(truncatingIfNeeded: length)
        if length > 8 {
            // XXH3_len_9to16_64b
            let bitflip1: UInt64 = 0x6782_737B_EA42_39B9  // readLE64(secret+24) ^ readLE64(secret+32)
            let bitflip2: UInt64 = 0xAF56_BC3B_0996_523A  // readLE64(secret+40) ^ readLE64(secret+48)
            let inputLo = read64(base, 0) ^ bitflip1
            let inputHi = read64(base, length - 8) ^ bitflip2
            let acc = len64 &+ inputLo.byteSwapped &+ inputHi &+ mul128Fold64(inputLo, inputHi)
            return avalanche(acc)
        }
        if length >= 4 {
            // XXH3_len_4to8_64b
            let bitflip: UInt64 = 0xC73A_B174_C5EC_D5A2  // readLE64(secret+8) ^ readLE64(secret+16)
            let input1 = UInt64(read32(base, 0))
            let input2 = UInt64(read32(base, length - 4))
            let keyed = (input2 &+ (input1 &<< 32)) ^ bitflip
            return rrmxmx(keyed, len64)
        }
        // XXH3_len_1to3_64b
        let c1 = UInt32(base.load(fromByteOffset: 0, as: UInt8.self))
        let c2 = UInt32(base.load(fromByteOffset: length >> 1, as: UInt8.self))
        let c3 = UInt32(base.load(fromByteOffset: length - 1, as: UInt8.self))
        let combined = (c1 &<< 16) | (c2 &<< 24) | c3 | (UInt32(truncatingIfNeeded: length) &<< 8)
        let bitflip: UInt64 = 0x8727_5A9B  // readLE32(secret) ^ readLE32(secret+4)
        return XXHash64.avalanche(UInt64(combined) ^ bitflip)
    }

    // MARK: - 17 to 240 bytes

    /// XXH3_len_17to128_64b.
    @usableFromInline
    static func hash17to128(_ base: UnsafeRawPointer, _ length: Int) -> UInt64 {
        kSecret.withUnsafeBytes { secretBuffer in
            let secret = secretBuffer.baseAddress.unsafelyUnwrapped
            var acc = UInt64(truncatingIfNeeded: length) &* XXHash64.prime1
            if length > 32 {
                if length > 64 {
                    if length > 96 {
                        acc &+= mix16B(base + 48, secret + 96)
                        acc &+= mix16B(base + length - 64, secret + 112)
                    }
                    acc &+= mix16B(base + 32, secret + 64)
                    acc &+= mix16B(base + length - 48, secret + 80)
                }
                acc &+= mix16B(base + 16, secret + 32)
                acc &+= mix16B(base + length - 32, secret + 48)
            }
            acc &+= mix16B(base, secret)
            acc &+= mix16B(base + length - 16, secret + 16)
            return avalanche(acc)
        }
    }

    /// XXH3_len_129to240_64b for 129...240 bytes, XXH3_hashLong_64b beyond.
    @usableFromInline
    static func hashLarge(_ base: UnsafeRawPointer, _ length: Int) -> UInt64 {
        kSecret.withUnsafeBytes { secretBuffer in
            let secret = secretBuffer.baseAddress.unsafelyUnwrapped
            if length <= midSizeMax {
                return hash129to240(base, length, secret)
            }
            return hashLong(base, length, secret, secretBuffer.count)
        }
    }

    static let midSizeMax = 240  // XXH3_MIDSIZE_MAX

    @inline(__always)
    static func hash129to240(_ base: UnsafeRawPointer, _ length: Int, _ secret: UnsafeRawPointer) -> UInt64 {
        let startOffset = 3  // XXH3_MIDSIZE_STARTOFFSET
        let lastOffset = 17  // XXH3_MIDSIZE_LASTOFFSET
        let secretSizeMin = 136  // XXH3_SECRET_SIZE_MIN
        var acc = UInt64(truncatingIfNeeded: length) &* XXHash64.prime1
        for i in 0..<8 {
            acc &+= mix16B(base + 16 * i, secret + 16 * i)
        }
        var accEnd = mix16B(base + length - 16, secret + secretSizeMin - lastOffset)
        acc = avalanche(acc)
        let rounds = length / 16
        for i in 8..<rounds {
            accEnd &+= mix16B(base + 16 * i, secret + 16 * (i - 8) + startOffset)
        }
        return avalanche(acc &+ accEnd)
    }

    // MARK: - More than 240 bytes

    static let stripeLength = 64  // XXH_STRIPE_LEN
    static let secretConsumeRate = 8  // XXH_SECRET_CONSUME_RATE
    static let secretLastAccStart = 7  // XXH_SECRET_LASTACC_START
    static let secretMergeAccsStart = 11  // XXH_SECRET_MERGEACCS_START

    /// XXH3_hashLong_64b_internal with the scalar accumulate and scramble.
    static func hashLong(
        _ base: UnsafeRawPointer,
        _ length: Int,
        _ secret: UnsafeRawPointer,
        _ secretSize: Int
    ) -> UInt64 {
        // XXH3_INIT_ACC, kept in eight locals rather than an array so nothing is allocated.
        var acc = Accumulators(
            UInt64(XXHash32.prime3),
            XXHash64.prime1,
            XXHash64.prime2,
            XXHash64.prime3,
            XXHash64.prime4,
            UInt64(XXHash32.prime2),
            XXHash64.prime5,
            UInt64(XXHash32.prime1)
        )
        let stripesPerBlock = (secretSize - stripeLength) / secretConsumeRate
        let blockLength = stripeLength * stripesPerBlock
        let blocks = (length - 1) / blockLength

        for n in 0..<blocks {
            let block = base + n * blockLength
            for s in 0..<stripesPerBlock {
                acc.accumulate512(block + s * stripeLength, secret + s * secretConsumeRate)
            }
            acc.scramble(secret + secretSize - stripeLength)
        }

        // Last partial block.
        let stripes = ((length - 1) - blockLength * blocks) / stripeLength
        let lastBlock = base + blocks * blockLength
        for s in 0..<stripes {
            acc.accumulate512(lastBlock + s * stripeLength, secret + s * secretConsumeRate)
        }
        // Last stripe: the final 64 bytes, which may overlap the previous stripe.
        acc.accumulate512(base + length - stripeLength, secret + secretSize - stripeLength - secretLastAccStart)

        // XXH3_mergeAccs
        let mergeSecret = secret + secretMergeAccsStart
        var result = UInt64(truncatingIfNeeded: length) &* XXHash64.prime1
        result &+= mul128Fold64(acc.a0 ^ read64(mergeSecret, 0), acc.a1 ^ read64(mergeSecret, 8))
        result &+= mul128Fold64(acc.a2 ^ read64(mergeSecret, 16), acc.a3 ^ read64(mergeSecret, 24))
        result &+= mul128Fold64(acc.a4 ^ read64(mergeSecret, 32), acc.a5 ^ read64(mergeSecret, 40))
        result &+= mul128Fold64(acc.a6 ^ read64(mergeSecret, 48), acc.a7 ^ read64(mergeSecret, 56))
        return avalanche(result)
    }

    /// The eight 64-bit lanes of the long-input state.
    struct Accumulators {
        var a0, a1, a2, a3, a4, a5, a6, a7: UInt64

        init(
            _ a0: UInt64,
            _ a1: UInt64,
            _ a2: UInt64,
            _ a3: UInt64,
            _ a4: UInt64,
            _ a5: UInt64,
            _ a6: UInt64,
            _ a7: UInt64
        ) {
            (self.a0, self.a1, self.a2, self.a3) = (a0, a1, a2, a3)
            (self.a4, self.a5, self.a6, self.a7) = (a4, a5, a6, a7)
        }

        /// XXH3_accumulate_512_scalar: for each lane, adds the input word to the
        /// neighbouring lane and the 32x32 product of the keyed word's halves to its own.
        @inline(__always)
        mutating func accumulate512(_ input: UnsafeRawPointer, _ secret: UnsafeRawPointer) {
            @inline(__always)
            func lane(_ i: Int, _ acc: inout UInt64, _ swapped: inout UInt64) {
                let dataVal = read64(input, 8 * i)
                let dataKey = dataVal ^ read64(secret, 8 * i)
                swapped &+= dataVal
                acc &+= (dataKey & 0xFFFF_FFFF) &* (dataKey &>> 32)
            }
            lane(0, &a0, &a1)
            lane(1, &a1, &a0)
            lane(2, &a2, &a3)
            lane(3, &a3, &a2)
            lane(4, &a4, &a5)
            lane(5, &a5, &a4)
            lane(6, &a6, &a7)
            lane(7, &a7, &a6)
        }

        /// XXH3_scrambleAcc_scalar.
        @inline(__always)
        mutating func scramble(_ secret: UnsafeRawPointer) {
            @inline(__always)
            func lane(_ i: Int, _ acc: inout UInt64) {
                var value = acc
                value ^= value &>> 47
                value ^= read64(secret, 8 * i)
                value &*= UInt64(XXHash32.prime1)
                acc = value
            }
            lane(0, &a0)
            lane(1, &a1)
            lane(2, &a2)
            lane(3, &a3)
            lane(4, &a4)
            lane(5, &a5)
            lane(6, &a6)
            lane(7, &a7)
        }
    }

    // MARK: - Primitives

    /// XXH3_mix16B with seed 0.
    @inlinable @inline(__always)
    static func mix16B(_ input: UnsafeRawPointer, _ secret: UnsafeRawPointer) -> UInt64 {
        mul128Fold64(read64(input, 0) ^ read64(secret, 0), read64(input, 8) ^ read64(secret, 8))
    }

    /// XXH3_mul128_fold64: the 128-bit product's low half XOR its high half.
    @inlinable @inline(__always)
    static func mul128Fold64(_ lhs: UInt64, _ rhs: UInt64) -> UInt64 {
        let product = lhs.multipliedFullWidth(by: rhs)
        return product.low ^ product.high
    }

    /// XXH3_avalanche.
    @inlinable @inline(__always)
    static func avalanche(_ hash: UInt64) -> UInt64 {
        var h = hash
        h ^= h &>> 37
        h &*= 0x1656_6791_9E37_79F9  // PRIME_MX1
        h ^= h &>> 32
        return h
    }

    /// XXH3_rrmxmx, the stronger finaliser for 4...8 bytes.
    @inlinable @inline(__always)
    static func rrmxmx(_ hash: UInt64, _ length: UInt64) -> UInt64 {
        var h = hash
        h ^= XXHash64.rotl(h, 49) ^ XXHash64.rotl(h, 24)
        h &*= 0x9FB2_1C65_1E98_DF25  // PRIME_MX2
        h ^= (h &>> 35) &+ length
        h &*= 0x9FB2_1C65_1E98_DF25  // PRIME_MX2
        return h ^ (h &>> 28)
    }

    @inlinable @inline(__always)
    static func read64(_ base: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inlinable @inline(__always)
    static func read32(_ base: UnsafeRawPointer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// XXH3_kSecret, the default 192-byte secret (taken by xxHash from FARSH).
    static let kSecret: [UInt8] = [
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    ]
}

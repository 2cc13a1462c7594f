/// MD5 (RFC 1321), for compatibility only.
///
/// libketama and the memcached clients that follow it (uhashring's `ketama`
/// mode, spymemcached's `KETAMA_HASH`) place nodes and keys by MD5, so ketama
/// placement needs it byte-exact. MD5 is broken as a cryptographic hash:
/// do not use it for security.
///
/// Byte-exact with RFC 1321 (<https://www.rfc-editor.org/rfc/rfc1321>) and
/// checked against its appendix A.5 test suite. Hashing does not allocate.
public enum MD5 {
    /// A 128-bit MD5 digest.
    public struct Digest: Sendable, Hashable {
        /// The four state words A, B, C, D; the digest bytes are each word little-endian, in order.
        ///
        /// libketama's points are these words: point `k` of a digest is word `k`.
        public var words: (UInt32, UInt32, UInt32, UInt32)

        /// A digest from its four state words.
        @inlinable
        public init(words: (UInt32, UInt32, UInt32, UInt32)) {
            self.words = words
        }

        /// The 16 digest bytes in order, as `md5sum` prints them.
        public var bytes: [UInt8] {
            var littleEndian = (
                words.0.littleEndian, words.1.littleEndian, words.2.littleEndian, words.3.littleEndian
            )
            return withUnsafeBytes(of: &littleEndian) { Array($0) }
        }

        @inlinable
        public static func == (lhs: Digest, rhs: Digest) -> Bool {
            lhs.words == rhs.words
        }

        @inlinable
        public func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    /// The MD5 digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> Digest {
        var state = State()
        let length = bytes.count
        let fullBlocks = length / 64
        if let base = bytes.baseAddress {
            for block in 0..<fullBlocks {
                state.compress(base + block * 64)
            }
        }

        // Padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit
        // little-endian integer; one or two final blocks, built on the stack.
        let tailLength = length - fullBlocks * 64
        var tail = (State.Block(), State.Block())
        withUnsafeMutableBytes(of: &tail) { buffer in
            if tailLength > 0, let base = bytes.baseAddress {
                buffer.baseAddress!.copyMemory(from: base + fullBlocks * 64, byteCount: tailLength)
            }
            buffer[tailLength] = 0x80
            let finalLength = tailLength < 56 ? 64 : 128
            let bitLength = UInt64(truncatingIfNeeded: length) &* 8
            buffer.storeBytes(of: bitLength.littleEndian, toByteOffset: finalLength - 8, as: UInt64.self)
            let pointer = UnsafeRawPointer(buffer.baseAddress!)
            state.compress(pointer)
            if finalLength == 128 {
                state.compress(pointer + 64)
            }
        }
        return Digest(words: (state.a, state.b, state.c, state.d))
    }

    /// The MD5 digest of the string's UTF-8 bytes.
    public static func hash(_ string: String) -> Digest {
        string.withUTF8Bytes { hash($0) }
    }

    /// The chaining state and the RFC 1321 block function.
    struct State {
        var a: UInt32 = 0x6745_2301
        var b: UInt32 = 0xEFCD_AB89
        var c: UInt32 = 0x98BA_DCFE
        var d: UInt32 = 0x1032_5476

        /// 64 zero bytes, as a value so that padding is built on the stack.
        struct Block {
            var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        }

        /// Processes one 64-byte block (RFC 1321 section 3.4). The constants
        /// are T[i] = floor(2^32 * abs(sin(i))), i = 1...64.
        mutating func compress(_ block: UnsafeRawPointer) {
            @inline(__always)
            func word(_ index: Int) -> UInt32 {
                UInt32(littleEndian: block.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            }
            let x0 = word(0)
            let x1 = word(1)
            let x2 = word(2)
            let x3 = word(3)
            let x4 = word(4)
            let x5 = word(5)
            let x6 = word(6)
            let x7 = word(7)
            let x8 = word(8)
            let x9 = word(9)
            let x10 = word(10)
            let x11 = word(11)
            let x12 = word(12)
            let x13 = word(13)
            let x14 = word(14)
            let x15 = word(15)

            var a = self.a
            var b = self.b
            var c = self.c
            var d = self.d

            // Round 1
            a = step(a, b, f(b, c, d), x0, 7, 0xD76A_A478)
            d = step(d, a, f(a, b, c), x1, 12, 0xE8C7_B756)
            c = step(c, d, f(d, a, b), x2, 17, 0x2420_70DB)
            b = step(b, c, f(c, d, a), x3, 22, 0xC1BD_CEEE)
            a = step(a, b, f(b, c, d), x4, 7, 0xF57C_0FAF)
            d = step(d, a, f(a, b, c), x5, 12, 0x4787_C62A)
            c = step(c, d, f(d, a, b), x6, 17, 0xA830_4613)
            b = step(b, c, f(c, d, a), x7, 22, 0xFD46_9501)
            a = step(a, b, f(b, c, d), x8, 7, 0x6980_98D8)
            d = step(d, a, f(a, b, c), x9, 12, 0x8B44_F7AF)
            c = step(c, d, f(d, a, b), x10, 17, 0xFFFF_5BB1)
            b = step(b, c, f(c, d, a), x11, 22, 0x895C_D7BE)
            a = step(a, b, f(b, c, d), x12, 7, 0x6B90_1122)
            d = step(d, a, f(a, b, c), x13, 12, 0xFD98_7193)
            c = step(c, d, f(d, a, b), x14, 17, 0xA679_438E)
            b = step(b, c, f(c, d, a), x15, 22, 0x49B4_0821)
            // Round 2
            a = step(a, b, g(b, c, d), x1, 5, 0xF61E_2562)
            d = step(d, a, g(a, b, c), x6, 9, 0xC040_B340)
            c = step(c, d, g(d, a, b), x11, 14, 0x265E_5A51)
            b = step(b, c, g(c, d, a), x0, 20, 0xE9B6_C7AA)
            a = step(a, b, g(b, c, d), x5, 5, 0xD62F_105D)
            d = step(d, a, g(a, b, c), x10, 9, 0x0244_1453)
            c = step(c, d, g(d, a, b), x15, 14, 0xD8A1_E681)
            b = step(b, c, g(c, d, a), x4, 20, 0xE7D3_FBC8)
            a = step(a, b, g(b, c, d), x9, 5, 0x21E1_CDE6)
            d = step(d, a, g(a, b, c), x14, 9, 0xC337_07D6)
            c = step(c, d, g(d, a, b), x3, 14, 0xF4D5_0D87)
            b = step(b, c, g(c, d, a), x8, 20, 0x455A_14ED)
            a = step(a, b, g(b, c, d), x13, 5, 0xA9E3_E905)
            d = step(d, a, g(a, b, c), x2, 9, 0xFCEF_A3F8)
            c = step(c, d, g(d, a, b), x7, 14, 0x676F_02D9)
            b = step(b, c, g(c, d, a), x12, 20, 0x8D2A_4C8A)
            // Round 3
            a = step(a, b, h(b, c, d), x5, 4, 0xFFFA_3942)
            d = step(d, a, h(a, b, c), x8, 11, 0x8771_F681)
            c = step(c, d, h(d, a, b), x11, 16, 0x6D9D_6122)
            b = step(b, c, h(c, d, a), x14, 23, 0xFDE5_380C)
            a = step(a, b, h(b, c, d), x1, 4, 0xA4BE_EA44)
            d = step(d, a, h(a, b, c), x4, 11, 0x4BDE_CFA9)
            c = step(c, d, h(d, a, b), x7, 16, 0xF6BB_4B60)
            b = step(b, c, h(c, d, a), x10, 23, 0xBEBF_BC70)
            a = step(a, b, h(b, c, d), x13, 4, 0x289B_7EC6)
            d = step(d, a, h(a, b, c), x0, 11, 0xEAA1_27FA)
            c = step(c, d, h(d, a, b), x3, 16, 0xD4EF_3085)
            b = step(b, c, h(c, d, a), x6, 23, 0x0488_1D05)
            a = step(a, b, h(b, c, d), x9, 4, 0xD9D4_D039)
            d = step(d, a, h(a, b, c), x12, 11, 0xE6DB_99E5)
            c = step(c, d, h(d, a, b), x15, 16, 0x1FA2_7CF8)
            b = step(b, c, h(c, d, a), x2, 23, 0xC4AC_5665)
            // Round 4
            a = step(a, b, i(b, c, d), x0, 6, 0xF429_2244)
            d = step(d, a, i(a, b, c), x7, 10, 0x432A_FF97)
            c = step(c, d, i(d, a, b), x14, 15, 0xAB94_23A7)
            b = step(b, c, i(c, d, a), x5, 21, 0xFC93_A039)
            a = step(a, b, i(b, c, d), x12, 6, 0x655B_59C3)
            d = step(d, a, i(a, b, c), x3, 10, 0x8F0C_CC92)
            c = step(c, d, i(d, a, b), x10, 15, 0xFFEF_F47D)
            b = step(b, c, i(c, d, a), x1, 21, 0x8584_5DD1)
            a = step(a, b, i(b, c, d), x8, 6, 0x6FA8_7E4F)
            d = step(d, a, i(a, b, c), x15, 10, 0xFE2C_E6E0)
            c = step(c, d, i(d, a, b), x6, 15, 0xA301_4314)
            b = step(b, c, i(c, d, a), x13, 21, 0x4E08_11A1)
            a = step(a, b, i(b, c, d), x4, 6, 0xF753_7E82)
            d = step(d, a, i(a, b, c), x11, 10, 0xBD3A_F235)
            c = step(c, d, i(d, a, b), x2, 15, 0x2AD7_D2BB)
            b = step(b, c, i(c, d, a), x9, 21, 0xEB86_D391)

            self.a &+= a
            self.b &+= b
            self.c &+= c
            self.d &+= d
        }

        // The auxiliary functions F, G, H, I of RFC 1321 section 3.4.
        @inline(__always)
        private func f(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { (x & y) | (~x & z) }
        @inline(__always)
        private func g(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { (x & z) | (y & ~z) }
        @inline(__always)
        private func h(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { x ^ y ^ z }
        @inline(__always)
        private func i(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { y ^ (x | ~z) }

        /// One operation `a = b + ((a + aux(b, c, d) + X[k] + T[i]) <<< s)`.
        @inline(__always)
        private func step(_ a: UInt32, _ b: UInt32, _ aux: UInt32, _ x: UInt32, _ s: UInt32, _ t: UInt32) -> UInt32 {
            b &+ rotl(a &+ aux &+ x &+ t, s)
        }

        @inline(__always)
        private func rotl(_ x: UInt32, _ r: UInt32) -> UInt32 {
            (x &<< r) | (x &>> (32 &- r))
        }
    }
}

/// CRC-32/ISO-HDLC, the CRC of zlib's `crc32()`, Ethernet, gzip and PNG.
///
/// Reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF
/// (check value `crc32("123456789") == 0xCBF43926`). Byte-exact with zlib's
/// `crc32()` (<https://github.com/madler/zlib>), nginx's `ngx_crc32_long` and
/// `ngx_crc32_init`/`ngx_crc32_update`/`ngx_crc32_final`, and HAProxy's
/// `hash_crc32`; the consistent-hashing modes of nginx and HAProxy place keys
/// by it.
///
/// Uses slicing-by-8 (eight 256-entry tables, 8 KiB built once), a standard
/// table-driven CRC technique that gives the same value as the bytewise loop.
/// A checksum, not a cryptographic hash.
public enum CRC32 {
    /// The register value before any input, for incremental use (`ngx_crc32_init`).
    public static let initial: UInt32 = 0xFFFF_FFFF

    /// The CRC-32 of `bytes`, as zlib's `crc32(0, bytes, count)` returns it.
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        finalize(update(initial, bytes))
    }

    /// The CRC-32 of the string's UTF-8 bytes.
    @inlinable
    public static func checksum(_ string: String) -> UInt32 {
        string.withUTF8Bytes { checksum($0) }
    }

    /// Feeds `bytes` into a running register `crc` and returns the new register,
    /// with no final XOR (`ngx_crc32_update`). Start from ``initial`` and end with
    /// ``finalize(_:)``; feeding input in pieces gives the same result as in one go.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return crc }
        let length = bytes.count
        return table.withUnsafeBufferPointer { t in
            var c = crc
            var offset = 0
            while offset + 8 <= length {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let lo = UInt32(truncatingIfNeeded: word) ^ c
                let hi = UInt32(truncatingIfNeeded: word &>> 32)
                c =
                    t[7 &* 256 &+ Int(lo & 0xFF)]
                    ^ t[6 &* 256 &+ Int((lo &>> 8) & 0xFF)]
                    ^ t[5 &* 256 &+ Int((lo &>> 16) & 0xFF)]
                    ^ t[4 &* 256 &+ Int(lo &>> 24)]
                    ^ t[3 &* 256 &+ Int(hi & 0xFF)]
                    ^ t[2 &* 256 &+ Int((hi &>> 8) & 0xFF)]
                    ^ t[1 &* 256 &+ Int((hi &>> 16) & 0xFF)]
                    ^ t[Int(hi &>> 24)]
                offset &+= 8
            }
            while offset < length {
                let byte = base.load(fromByteOffset: offset, as: UInt8.self)
                c = t[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c &>> 8)
                offset &+= 1
            }
            return c
        }
    }

    /// Feeds the string's UTF-8 bytes into a running register.
    public static func update(_ crc: UInt32, _ string: String) -> UInt32 {
        string.withUTF8Bytes { update(crc, $0) }
    }

    /// The checksum from a register (`ngx_crc32_final`): `crc ^ 0xFFFFFFFF`.
    @inlinable
    public static func finalize(_ crc: UInt32) -> UInt32 {
        crc ^ 0xFFFF_FFFF
    }

    /// Slicing-by-8 tables, flattened: entry `k * 256 + i` is the register after
    /// byte `i` followed by `k` zero bytes. Table 0 is zlib's `crc_table`.
    static let table: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 8 * 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 {
                c = c & 1 != 0 ? (c &>> 1) ^ 0xEDB8_8320 : c &>> 1
            }
            table[i] = c
        }
        for k in 1..<8 {
            for i in 0..<256 {
                let previous = table[(k - 1) * 256 + i]
                table[k * 256 + i] = (previous &>> 8) ^ table[Int(previous & 0xFF)]
            }
        }
        return table
    }()
}

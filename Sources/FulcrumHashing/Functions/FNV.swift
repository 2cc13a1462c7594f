/// Fowler–Noll–Vo hashes: FNV-1 and FNV-1a, 32- and 64-bit.
///
/// As specified by Landon Curt Noll (<http://www.isthe.com/chongo/tech/comp/fnv/>,
/// `test_fnv.c`) and draft-eastlake-fnv: start from the offset basis, then for
/// each byte FNV-1 multiplies by the FNV prime and XORs the byte, FNV-1a XORs
/// then multiplies. No final mixing, so low bits are weak on short inputs.
/// Not cryptographic.
public enum FNV {
    @inlinable static var offset32: UInt32 { 0x811C_9DC5 }
    @inlinable static var prime32: UInt32 { 0x0100_0193 }
    @inlinable static var offset64: UInt64 { 0xCBF2_9CE4_8422_2325 }
    @inlinable static var prime64: UInt64 { 0x0000_0100_0000_01B3 }

    /// 32-bit FNV-1: `hash = (hash * prime) ^ byte`.
    @inlinable
    public static func fnv1_32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var hash = offset32
        for byte in bytes {
            hash = (hash &* prime32) ^ UInt32(byte)
        }
        return hash
    }

    /// 32-bit FNV-1a: `hash = (hash ^ byte) * prime`.
    @inlinable
    public static func fnv1a_32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var hash = offset32
        for byte in bytes {
            hash = (hash ^ UInt32(byte)) &* prime32
        }
        return hash
    }

    /// 64-bit FNV-1: `hash = (hash * prime) ^ byte`.
    @inlinable
    public static func fnv1_64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = offset64
        for byte in bytes {
            hash = (hash &* prime64) ^ UInt64(byte)
        }
        return hash
    }

    /// 64-bit FNV-1a: `hash = (hash ^ byte) * prime`.
    @inlinable
    public static func fnv1a_64(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = offset64
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* prime64
        }
        return hash
    }

    /// 32-bit FNV-1 of the string's UTF-8 bytes.
    @inlinable
    public static func fnv1_32(_ string: String) -> UInt32 {
        string.withUTF8Bytes { fnv1_32($0) }
    }

    /// 32-bit FNV-1a of the string's UTF-8 bytes.
    @inlinable
    public static func fnv1a_32(_ string: String) -> UInt32 {
        string.withUTF8Bytes { fnv1a_32($0) }
    }

    /// 64-bit FNV-1 of the string's UTF-8 bytes.
    @inlinable
    public static func fnv1_64(_ string: String) -> UInt64 {
        string.withUTF8Bytes { fnv1_64($0) }
    }

    /// 64-bit FNV-1a of the string's UTF-8 bytes.
    @inlinable
    public static func fnv1a_64(_ string: String) -> UInt64 {
        string.withUTF8Bytes { fnv1a_64($0) }
    }
}

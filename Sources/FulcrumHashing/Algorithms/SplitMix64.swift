/// SplitMix64's finalizer (Steele, Lea & Flood 2014): a fixed bijection that
/// spreads the bits of a 64-bit value. Used to derive independent values
/// from one key hash without hashing the key again.
package enum SplitMix64 {
    @inlinable
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

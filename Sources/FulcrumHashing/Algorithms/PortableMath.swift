/// Floating-point functions computed with plain IEEE-754 arithmetic only.
///
/// Placement must be identical on every machine and in every release, and
/// platform `libm` implementations of `log` may differ in the last bit, which
/// can flip a close rendezvous comparison. These use only `+ − × ÷`, which
/// IEEE-754 defines exactly, so every machine gets the same bits.
package enum PortableMath {
    /// The natural logarithm of a positive finite `x`.
    ///
    /// x = m·2ᵉ with m in [1, 2), so ln x = e·ln 2 + ln m, and
    /// ln m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) with s = (m−1)/(m+1) < 1/3,
    /// which reaches double precision within 18 terms. Accurate to a few ulps.
    package static func log(_ x: Double) -> Double {
        precondition(x > 0 && x.isFinite, "log needs a positive finite argument")
        let exponent = Double(x.exponent)
        let m = x.significand
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var term = s
        var sum = 0.0
        var k = 1.0
        for _ in 0..<18 {
            sum += term / k
            term *= s2
            k += 2
        }
        return exponent * 0.693_147_180_559_945_3 + 2 * sum
    }
}

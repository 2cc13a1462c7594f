import Foundation
import FulcrumHashing
import Testing

@Suite("Portable math")
struct PortableMathTests {
    @Test("log agrees with the platform's log to within a few ulps")
    func logAccuracy() {
        var rng = SplitMix(seed: 42)
        var worst = 0.0
        for _ in 0..<100_000 {
            let x = (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992.0
            let error = abs(PortableMath.log(x) - Foundation.log(x)) / abs(Foundation.log(x)).ulp
            worst = max(worst, error)
        }
        for x in [1e-300, 1e-16, 0.5, 0.999_999_999, 1.0, 2.0, 10.0] {
            let reference = Foundation.log(x)
            let error = reference == 0 ? abs(PortableMath.log(x)) : abs(PortableMath.log(x) - reference) / abs(reference).ulp
            worst = max(worst, error)
        }
        #expect(worst <= 8, "worst error \(worst) ulps")
    }
}

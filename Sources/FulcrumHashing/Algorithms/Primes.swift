/// Primality for table sizes.
public enum Primes {
    /// Whether `n` is prime, by trial division.
    ///
    /// - Complexity: O(√n); table sizes are small enough for that.
    public static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        if n < 4 { return true }
        if n % 2 == 0 || n % 3 == 0 { return false }
        var d = 5
        while d * d <= n {
            if n % d == 0 || n % (d + 2) == 0 { return false }
            d += 6
        }
        return true
    }
}

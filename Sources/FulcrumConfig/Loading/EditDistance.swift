/// "Did you mean …?" suggestions for misspelt keys and names.
enum Suggestion {
    /// The candidate closest to `word` by Levenshtein distance (case-insensitive),
    /// when it is close enough to be a likely typo: at most 1 edit for short
    /// words, up to a third of the word's length for long ones. Ties go to the
    /// earlier candidate.
    /// - Complexity: O(n · |word| · |candidate|).
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let lowered = Array(word.lowercased().unicodeScalars)
        let limit = max(1, min(3, lowered.count / 3))
        var best: (String, Int)?
        for candidate in candidates {
            let distance = levenshtein(lowered, Array(candidate.lowercased().unicodeScalars))
            if distance <= limit, best == nil || distance < best!.1 { best = (candidate, distance) }
        }
        return best?.0
    }

    /// `did you mean 'x'?`, or `nil`.
    static func hint(for word: String, in candidates: some Sequence<String>) -> String? {
        closest(to: word, in: candidates).map { "did you mean '\($0)'?" }
    }

    /// Edits (insertions, deletions, substitutions, adjacent swaps) between two strings.
    static func levenshtein(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}

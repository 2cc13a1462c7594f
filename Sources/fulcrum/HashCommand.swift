import ArgumentParser
import FulcrumHashing

struct Hash: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print one lowercase hex digest per string, or per line of standard input when no strings are given.",
        discussion: """
            Integer-valued functions print their value as fixed-width hex (%08x or %016x); md5 and murmur3_128 \
            print their digest bytes in order, as md5sum and Guava do. Strings are hashed as UTF-8.
            """
    )

    @Argument(help: "The function: \(HashFunction.acceptedNames).")
    var function: String

    @Argument(help: "Strings to hash.")
    var strings: [String] = []

    func run() throws {
        guard let function = HashFunction(rawValue: function) else {
            throw UsageError("unknown hash function '\(self.function)'; accepted: \(HashFunction.acceptedNames)")
        }
        var output = OutputBuffer()
        if strings.isEmpty {
            var reader = LineReader()
            try reader.forEachLine { output.append(function.hexDigest($0) + "\n") }
        } else {
            for string in strings {
                output.append(string.withUTF8Bytes { function.hexDigest($0) } + "\n")
            }
        }
        output.flush()
    }
}

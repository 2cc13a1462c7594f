import ArgumentParser
import FulcrumConfig

/// `fulcrum validate FILE`: checks a configuration without starting anything.
///
/// Exit statuses: 0 when the file is valid (`OK: <summary>` on standard
/// output), 1 when it is not (every problem on standard error, one per line,
/// `file:line:column: key.path: found …; expected …`), 2 for bad arguments.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a fulcrum.yaml and report every problem with its line and column.",
        discussion: """
            Prints "OK: <summary>" and exits 0 when the file is valid. Otherwise prints every problem to standard \
            error, one per line as file:line:column: key.path: found ...; expected ..., and exits 1. \
            --print-defaults prints every setting with its default, as a commented, valid configuration.
            """
    )

    @Argument(help: "The configuration file, such as fulcrum.yaml.")
    var file: String?

    @Flag(name: .long, help: "Print every setting with its default, as YAML, and exit.")
    var printDefaults = false

    func validate() throws {
        if printDefaults {
            guard file == nil else { throw ValidationError("give either a FILE or --print-defaults, not both") }
        } else if file == nil {
            throw ValidationError("give the configuration FILE to check, such as fulcrum.yaml, or --print-defaults")
        }
    }

    func run() throws {
        if printDefaults {
            var output = OutputBuffer()
            output.append(FulcrumConfiguration.defaultsDocument)
            output.flush()
            return
        }
        guard let file else { return }
        do {
            let configuration = try ConfigLoader.load(path: file)
            var output = OutputBuffer()
            output.append("OK: \(configuration.summary)\n")
            output.flush()
        } catch {
            for diagnostic in error.diagnostics {
                StandardError.writeLine(diagnostic.description)
            }
            throw ExitCode(1)
        }
    }
}

import Foundation
import Yams

/// Loads `fulcrum.yaml`: YAML syntax, then every check, reporting every
/// problem at once with its file, line, column and key path.
///
/// The file is composed into Yams `Node`s, not decoded with `Codable`, so
/// that every value keeps its position for error messages.
public enum ConfigLoader {
    /// Reads and validates the file at `path`.
    ///
    /// - Parameter path: as the user gave it; diagnostics name the file so.
    ///   Relative paths inside the file (such as `rs256_public_key_file`) are
    ///   relative to its directory.
    /// - Throws: ``ConfigError`` with every problem found.
    public static func load(path: String) throws(ConfigError) -> FulcrumConfiguration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable(path, "no such file", expected: "the path of a fulcrum.yaml configuration file")
        }
        guard !isDirectory.boolValue else {
            throw unreadable(path, "a directory", expected: "the path of a fulcrum.yaml configuration file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw unreadable(path, "a file that cannot be read", expected: "a file readable by this user")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw unreadable(path, "bytes that are not UTF-8", expected: "a UTF-8 text file")
        }
        return try parse(yaml: text, file: path)
    }

    /// Validates configuration text.
    ///
    /// - Parameter file: the name diagnostics give the text, such as `fulcrum.yaml`.
    /// - Throws: ``ConfigError`` with every problem found.
    public static func parse(yaml: String, file: String) throws(ConfigError) -> FulcrumConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(code: .syntax, diagnostics: [syntaxDiagnostic(error, yaml: yaml, file: file)])
        }
        var reader = ConfigReader(file: file)
        let configuration = reader.read(root)
        guard reader.diagnostics.isEmpty else {
            throw ConfigError(code: .invalidConfiguration, diagnostics: sorted(reader.diagnostics))
        }
        return configuration
    }

    /// In file order; problems at one position keep the order they were found.
    static func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    private static func unreadable(_ path: String, _ found: String, expected: String) -> ConfigError {
        ConfigError(
            code: .unreadableFile,
            diagnostics: [
                Diagnostic(
                    kind: .unreadableFile,
                    file: path,
                    line: 0,
                    column: 0,
                    keyPath: "",
                    found: found,
                    expected: expected
                )
            ]
        )
    }

    static func syntaxDiagnostic(_ error: any Error, yaml: String, file: String) -> Diagnostic {
        func make(
            _ position: Position,
            _ found: String,
            kind: Diagnostic.Kind = .syntax,
            expected: String = "well-formed YAML"
        )
            -> Diagnostic
        {
            Diagnostic(
                kind: kind,
                file: file,
                line: position.line,
                column: position.column,
                keyPath: "",
                found: found.replacingNewlinesWithSpaces(),
                expected: expected
            )
        }
        func problem(_ problem: String, _ context: YamlError.Context?) -> String {
            guard let context else { return "a YAML syntax error: \(problem)" }
            return "a YAML syntax error: \(problem) (\(context.text) at \(Position(context.mark).short))"
        }
        guard let error = error as? YamlError else { return make(.start, "a YAML error: \(error)") }
        switch error {
        case .scanner(let context, let text, let mark, _), .parser(let context, let text, let mark, _),
            .composer(let context, let text, let mark, _):
            return make(Position(mark), problem(text, context))
        case .reader(let text, let offset, _, _):
            return make(offset.map { position(ofCharacterOffset: $0, in: yaml) } ?? .start, "unreadable text: \(text)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return make(
                Position(context.mark),
                "the key \(keys) more than once in one mapping",
                kind: .duplicate,
                expected: "each key once per mapping"
            )
        default:
            return make(.start, "a YAML error: \(error)")
        }
    }

    private static func position(ofCharacterOffset offset: Int, in text: String) -> Position {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character.isNewline {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return Position(line: line, column: column)
    }
}

import FulcrumConfig
import Testing

/// The diagnostics `parse` throws for `yaml`, or an issue when it succeeds.
func diagnostics(
    _ yaml: String,
    file: String = "fulcrum.yaml",
    sourceLocation: SourceLocation = #_sourceLocation
) -> [Diagnostic] {
    do {
        let configuration = try ConfigLoader.parse(yaml: yaml, file: file)
        Issue.record(
            "expected errors, got a valid configuration: \(configuration.summary)",
            sourceLocation: sourceLocation
        )
        return []
    } catch {
        #expect(!error.diagnostics.isEmpty, sourceLocation: sourceLocation)
        return error.diagnostics
    }
}

/// The descriptions of the diagnostics for `yaml`.
func errorLines(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    diagnostics(yaml, sourceLocation: sourceLocation).map(\.description)
}

/// Parses a configuration that must be valid, recording the diagnostics otherwise.
func valid(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> FulcrumConfiguration? {
    do {
        return try ConfigLoader.parse(yaml: yaml, file: "fulcrum.yaml")
    } catch {
        Issue.record("expected a valid configuration:\n\(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// A valid configuration with `body` spliced in as the cluster `api`'s extra
/// settings (indented by four spaces in the text).
let minimalConfig = """
    listeners:
      - port: 8080
    clusters:
      api:
        backends:
          - 127.0.0.1:9001

    """

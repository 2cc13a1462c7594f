import Foundation

/// The reference vector files in `Tests/Vectors`, found from this file's path
/// (`Tests/FulcrumCLITests/Support/CLIVectors.swift`).
enum CLIVectors {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // FulcrumCLITests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Vectors", isDirectory: true)

    static func data(_ name: String) throws -> Data {
        let url = directory.appendingPathComponent(name)
        do {
            return try Data(contentsOf: url)
        } catch {
            throw CLITestError("cannot read vector file \(url.path): \(error)")
        }
    }

    /// Decodes `Tests/Vectors/<name>` (snake_case keys become camelCase).
    static func decode<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(T.self, from: try data(name))
        } catch let error as CLITestError {
            throw error
        } catch {
            throw CLITestError("\(name) does not have the expected shape: \(error)")
        }
    }

    /// Parses `Tests/Vectors/<name>` with `JSONSerialization`; the top level must be an object.
    static func object(_ name: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: try data(name)) as? [String: Any] else {
            throw CLITestError("\(name): the top level is not a JSON object")
        }
        return object
    }
}

// MARK: - File shapes

struct WeightedNode: Decodable {
    var name: String
    var weight: Int
}

/// `ketama.json`: sets → variants → nodes, assignment.
struct KetamaVectors: Decodable {
    struct Variant: Decodable {
        var nodes: [WeightedNode]
        var assignment: [String]
    }
    struct ServerSet: Decodable {
        var variants: [String: Variant]
    }
    var sets: [String: ServerSet]
}

/// `nginx_chash.json`: sets → base / after_remove / after_add → nodes, assignment.
struct NginxVectors: Decodable {
    struct Variant: Decodable {
        var nodes: [WeightedNode]
        var assignment: [String]
    }
    struct ServerSet: Decodable {
        var base: Variant
        var afterRemove: Variant
        var afterAdd: Variant
    }
    var sets: [String: ServerSet]
}

/// `haproxy_chash.json`: sets → base / after_remove / after_add → servers, assignment.
struct HAProxyVectors: Decodable {
    struct Server: Decodable {
        var name: String
        var id: Int
        var weight: Int
        /// As `--node` takes it.
        var spec: String { "\(name)=\(weight)#\(id)" }
    }
    struct Variant: Decodable {
        var servers: [Server]
        var assignment: [String]
    }
    struct ServerSet: Decodable {
        var base: Variant
        var afterRemove: Variant
        var afterAdd: Variant
    }
    var sets: [String: ServerSet]
}

/// `rendezvous_pymemcache.json`: sets → nodes, base, after_remove, after_add.
struct RendezvousVectors: Decodable {
    struct Removal: Decodable {
        var removed: String
        var assignment: [String]
    }
    struct Addition: Decodable {
        var added: String
        var assignment: [String]
    }
    struct ServerSet: Decodable {
        var nodes: [String]
        var base: [String]
        var afterRemove: Removal
        var afterAdd: Addition
    }
    var sets: [String: ServerSet]
}

/// `jump.json`: bucket for uint64 keys 0..9999 per bucket count.
struct JumpVectors: Decodable {
    struct SequentialKeys: Decodable {
        var numBuckets: [Int]
        var values: [String: [Int]]
    }
    var sequentialKeys: SequentialKeys
}

import ArgumentParser
import FulcrumProxy
import NIOPosix

/// `fulcrum backend`: one of the demo backends on its own, for scripts that
/// need real backend processes to stop, kill or pause.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Run a built-in demo HTTP backend (answers its name; /health, /health/deep, /slow?ms=N, /status/CODE, /headers; /admin/health?status=CODE and /admin/dependency?name=KEY&status=pass|warn|fail change what the health pages report; /admin/requests counts the rest)."
    )

    @Option(help: "The name it answers with.")
    var name = "backend"

    @Option(help: "Where to listen, HOST:PORT.")
    var listen = "127.0.0.1:9001"

    func run() async throws {
        let (host, port) = try ServeSetup.hostPort(listen, option: "--listen")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend: DemoBackend
        do {
            backend = try await DemoBackend.start(name: name, host: host, port: port, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw UsageError("cannot listen on \(listen): \(error)")
        }
        print("\(name) listening on \(host):\(backend.port)")
        fflush(nil)
        try await ServeSetup.runUntilSignalled {
            await backend.stop()
            try? await group.shutdownGracefully()
        }
    }
}

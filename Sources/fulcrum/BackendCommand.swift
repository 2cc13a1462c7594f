import ArgumentParser
import FulcrumProxy
import NIOPosix

/// `fulcrum backend`: one of the demo backends on its own, for scripts that
/// need real backend processes to stop, kill or pause.
struct BackendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backend",
        abstract: "Run a built-in demo HTTP backend (answers its name; /health, /health/deep, /slow?ms=N, /status/CODE, /headers; /admin/health?status=CODE and /admin/dependency?name=KEY&status=pass|warn|fail change what the health pages report; /admin/requests counts the rest; with --agent-port, an HAProxy-style agent answers the reply set by /admin/agent?reply=drain)."
    )

    @Option(help: "The name it answers with.")
    var name = "backend"

    @Option(help: "Where to listen, HOST:PORT.")
    var listen = "127.0.0.1:9001"

    @Option(help: "Also answer agent checks on this port of the same host (default reply 'up 100%').")
    var agentPort: Int?

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
        var started: DemoAgent?
        if let agentPort {
            do {
                started = try await DemoAgent.start(state: backend.health, host: host, port: agentPort, group: group)
            } catch {
                await backend.stop()
                try? await group.shutdownGracefully()
                throw UsageError("cannot listen on \(host):\(agentPort) for the agent: \(error)")
            }
        }
        let agent = started
        print("\(name) listening on \(host):\(backend.port)" + (agent.map { ", agent on port \($0.port)" } ?? ""))
        fflush(nil)
        try await ServeSetup.runUntilSignalled {
            await agent?.stop()
            await backend.stop()
            try? await group.shutdownGracefully()
        }
    }
}

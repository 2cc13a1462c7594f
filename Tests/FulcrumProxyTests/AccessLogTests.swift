import Foundation
import FulcrumProxy
import Testing

@Suite("Access log lines")
struct AccessLogTests {
    let record = AccessRecord(
        client: "127.0.0.1",
        method: "GET",
        uri: "/a?b=\"c\"",
        version: "HTTP/1.1",
        status: 200,
        bytes: 10,
        referer: nil,
        userAgent: "curl/7.88",
        cluster: "web",
        backend: "b1",
        upstreamMilliseconds: 1.234,
        retries: 1
    )

    @Test("combined: nginx's fields, then cluster, backend, upstream time and retries")
    func combined() {
        let line = record.line(.combined, unixSeconds: 1_795_664_401)
        #expect(
            line == "127.0.0.1 - - [26/Nov/2026:03:40:01 +0000] \"GET /a?b=\"c\" HTTP/1.1\" 200 10 \"-\" \"curl/7.88\" "
                + "cluster=web backend=b1 upstream_ms=1.2 retries=1"
        )
    }

    @Test("json: one parseable object per line")
    func json() throws {
        let line = record.line(.json, unixSeconds: 1_795_664_401)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["uri"] as? String == "/a?b=\"c\"")
        #expect(object["status"] as? Int == 200)
        #expect(object["backend"] as? String == "b1")
        #expect(object["retries"] as? Int == 1)
        #expect(object["time"] as? Int == 1_795_664_401)
    }
}

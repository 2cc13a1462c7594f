import FulcrumCore
import FulcrumProxy
import Testing

@Suite("Health check parsers: application/health+json and agent replies")
struct HealthParsingTests {
    @Test(
        "strict JSON: valid documents parse, broken ones do not",
        arguments: [
            ("{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\n\"]}", true),
            ("{\"a\":1,}", false), ("{\"a\":01}", false), ("{\"a\":1} x", false), ("{\"a\":\"\u{01}\"}", false),
            ("{\"a\":\"\\ud800\"}", false),
            (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), false),
        ]
    )
    func json(text: String, valid: Bool) {
        #expect((JSONValue.parse(Array(text.utf8)) != nil) == valid)
    }

    @Test("health+json verdicts")
    func documents() throws {
        func verdict(_ json: String, required: [String] = []) -> CheckVerdict? {
            HealthDocument.parse(Array(json.utf8))?.verdict(required: required, warnWeightPercent: 50)
        }
        #expect(verdict(#"{"status":"pass"}"#) == .pass("application check: pass", weightPercent: 100))
        #expect(
            verdict(#"{"status":"fail","checks":{"db:connection":[{"status":"fail"}],"cache":[{"status":"pass"}]}}"#)
                == .fail("application check: db:connection fail")
        )
        #expect(verdict(#"{"status":"fail"}"#) == .fail("application check: status fail"))
        #expect(
            verdict(
                #"{"status":"pass","checks":{"db:connection":[{"status":"pass"},{"status":"fail"}]}}"#,
                required: ["db"]
            )
                == .fail("application check: db:connection fail")
        )
        #expect(
            verdict(#"{"status":"warn","checks":{"search":[{"status":"fail"}]}}"#, required: ["db"])
                == .fail("application check: db missing")
        )
        #expect(
            verdict(#"{"status":"warn","checks":{"cache:ping":[{"status":"warn"}]}}"#)
                == .pass("application check: cache:ping warn", weightPercent: 50)
        )
        #expect(
            verdict(#"{"status":"ok","checks":{"db":[{"status":"warn"}]}}"#, required: ["db"])
                == .pass("application check: db warn", weightPercent: 50)
        )
        #expect(verdict(#"{"status":"maybe"}"#) == nil)
        #expect(verdict("not json") == nil)
    }

    @Test("agent replies, including HAProxy's regression-test line")
    func agentReplies() {
        let haproxy = AgentReply("75%,maxconn:30,maint,down\n")
        #expect(haproxy == AgentReply(health: .down, admin: .maintenance, weightPercent: 75, description: nil))
        #expect(AgentReply("UP READY 100%") == AgentReply(health: .up, admin: .enabled, weightPercent: 100))
        #expect(AgentReply("drain\r\nup") == AgentReply(admin: .draining))
        #expect(
            AgentReply("stopped # maintenance window") == AgentReply(health: .down, description: "maintenance window")
        )
        #expect(AgentReply("").verdict == .pass("agent check: no state"))
        #expect(AgentReply("fail #disk").verdict == .fail("agent check: down (disk)"))
    }
}

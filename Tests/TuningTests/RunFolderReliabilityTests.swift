// What a careless or unlucky user does to a run folder and its options: two processes in one folder, a run killed
// before its first save, a state.json edited or cut short, options out of range. Each ends in one sentence and
// leaves the files as they were.
import Foundation
import Runs
import Testing

@Suite(.serialized) struct RunFolderReliabilityTests {
    let model: URL
    let data: URL
    let runs = FileManager.default.temporaryDirectory.appendingPathComponent("legible-reliability-\(UUID().uuidString)")

    init() throws {
        model = try Tiny.modelDirectory(Tiny.model())
        data = try Tiny.dataRoot()
    }

    func tune(_ out: URL, _ extra: [String] = []) throws -> CommandResult {
        try legible(["tune", "--model", model.path, "--data", data.path, "--prompt-length", "4", "--batch", "6", "--lr", "0.01",
                     "--eval-every", "2", "--out", out.path] + extra)
    }

    @Test func aHeldLockStopsASecondProcessAndAStaleOneIsTakenOver() throws {
        let out = runs.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let lock = out.appendingPathComponent("lock")
        // This test process is alive: its lock holds.
        try "\(getpid()) \(ProcessInfo.processInfo.hostName)\n".write(to: lock, atomically: true, encoding: .utf8)
        let refused = try tune(out, ["--steps", "2"])
        #expect(refused.status != 0 && refused.error.contains("in use by another legible process"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("run.json").path))
        // A process that has exited: its lock is stale.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        try "\(finished.processIdentifier) \(ProcessInfo.processInfo.hostName)\n".write(to: lock, atomically: true, encoding: .utf8)
        let tuned = try tune(out, ["--steps", "2"])
        #expect(tuned.status == 0, "\(tuned.error)")
        #expect(!FileManager.default.fileExists(atPath: lock.path))  // released at the end
    }

    @Test func aRunKilledBeforeItsFirstSaveStartsOverEitherWay() throws {
        for extra in [[], ["--resume"]] {
            let out = runs.appendingPathComponent("unsaved-\(extra.count)")
            #expect(try tune(out, ["--steps", "2"]).status == 0)
            for file in ["state.json", "report.json", "prompt.safetensors"] {
                try FileManager.default.removeItem(at: out.appendingPathComponent(file))
            }
            // A write killed halfway leaves its temporary; the next open removes it.
            let leftover = out.appendingPathComponent("state.json.partial-99999")
            try Data("{\"st".utf8).write(to: leftover)
            let again = try tune(out, ["--steps", "2"] + extra)
            #expect(again.status == 0, "\(extra): \(again.error)")
            #expect(!FileManager.default.fileExists(atPath: leftover.path))
            let lines = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 2)  // started over: the old lines are gone, not doubled
        }
    }

    @Test func aBadStateIsRefusedBeforeTheLogIsTouched() throws {
        let out = runs.appendingPathComponent("state")
        #expect(try tune(out, ["--steps", "4"]).status == 0)
        let stateURL = out.appendingPathComponent("state.json"), logURL = out.appendingPathComponent("log.jsonl")
        let original = try Data(contentsOf: stateURL)
        var state = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
        let log = try Data(contentsOf: logURL)
        let edits: [(String, (inout [String: Any]) -> Void, String)] = [
            ("short prompt", { $0["prompt"] = [Float](repeating: 0.5, count: 3) }, "the prompt holds 3 numbers"),
            ("negative step", { $0["step"] = -2 }, "step -2 is negative"),
            ("moments", { s in
                var o = s["optimizer"] as! [String: Any]
                o["m"] = [Float](repeating: 0, count: 5).withUnsafeBytes { Data($0) }.base64EncodedString()  // packed float32
                s["optimizer"] = o
            }, "the optimizer's m holds 5 numbers"),
        ]
        for (name, edit, message) in edits {
            var changed = state
            edit(&changed)
            try JSONSerialization.data(withJSONObject: changed).write(to: stateURL)
            let resumed = try tune(out, ["--steps", "6", "--resume"])
            #expect(resumed.status != 0 && resumed.error.contains("cannot be resumed") && resumed.error.contains(message), "\(name): \(resumed.error)")
            #expect(try Data(contentsOf: logURL) == log, "\(name): the log changed")
        }
        try Data("{\"step\": ".utf8).write(to: stateURL)  // cut short by a full disk
        let cut = try tune(out, ["--steps", "6", "--resume"])
        #expect(cut.status != 0 && cut.error.contains("state.json cannot be read back"), "\(cut.error)")
        state["step"] = 4
        try original.write(to: stateURL)
        #expect(try tune(out, ["--steps", "6", "--resume"]).status == 0)
    }

    @Test func optionsOutOfRangeAreRefusedByName() throws {
        let cases: [([String], String)] = [
            (["--lr", "inf"], "finite"),
            (["--scrutability", "nan"], "finite"),
            (["--clip=-1"], "clipping norm cannot be negative"),
            (["--method", "rlprompt", "--policy-hidden", "1000000000"], "hidden width is limited"),
            (["--threads", "1000"], "--threads must be between 1 and"),
        ]
        for (extra, message) in cases {
            let result = try tune(runs.appendingPathComponent(UUID().uuidString), ["--steps", "1"] + extra)
            #expect(result.status != 0 && result.error.contains(message), "\(extra): \(result.error)")
        }
        // Invalid UTF-8 in an argument (Swift would quietly replace it), through a shell since Process takes Strings.
        let invalid = try legible(["-c", "\"$0\" tokenize --model \"$1\" --text \"$(printf 'ab\\377')\"", try legibleExecutable().path, model.path],
                                  executable: URL(fileURLWithPath: "/bin/sh"))
        #expect(invalid.status == 64 && invalid.error.contains("argument 5 is not valid UTF-8"), "\(invalid.error)")
        let noOut = try legible(["tune", "--model", model.path, "--data", data.path, "--out", ""])
        #expect(noOut.status != 0 && noOut.error.contains("--out needs a folder name"), "\(noOut.error)")
        let file = runs.appendingPathComponent("a-file")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: file)
        let onFile = try tune(file, ["--steps", "1"])
        #expect(onFile.status != 0 && onFile.error.contains("cannot write in") && !onFile.error.contains("NSCocoaErrorDomain"), "\(onFile.error)")
    }
}

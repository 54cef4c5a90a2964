// The `legible` command end to end on a tiny model: tune → eval → decode, resume, and the exit status and
// message a user gets for bad input.
import Foundation
import Reports
import Runs
import Sweeps
import Tasks
import Testing
import Tuning

struct CommandResult {
    var status: Int32
    var output: String
    var error: String
}

/// The `legible` executable built beside this test bundle.
func legibleExecutable() throws -> URL {
    // The test bundle sits in the build products folder beside the executable.
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let candidates = [testBinary.deletingLastPathComponent(), Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        .map { $0.appendingPathComponent("legible") }
    return try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                        "build the legible executable first (swift build), as scripts/test does")
}

let testCacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("legible-cache-\(UUID().uuidString)")

/// The environment the tests run `legible` in: this process's, with zero-shot scores sent to the test process's own
/// cache folder instead of the user's, and `extra` on top.
func testEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    ProcessInfo.processInfo.environment.merging(["LEGIBLE_CACHE_DIR": testCacheDirectory.path]) { $1 }.merging(extra) { $1 }
}

/// Runs the `legible` executable built beside this test bundle (or, with `executable`, another program).
func legible(_ arguments: [String], executable: URL? = nil, environment extra: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = try executable ?? legibleExecutable()
    process.arguments = arguments
    process.environment = testEnvironment(extra)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile(), error = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: String(decoding: output, as: UTF8.self),
                         error: String(decoding: error, as: UTF8.self))
}

@Suite(.serialized) struct EndToEndTests {
    let model: URL
    let data: URL
    let runs = FileManager.default.temporaryDirectory.appendingPathComponent("legible-runs-\(UUID().uuidString)")

    init() throws {
        model = try Tiny.modelDirectory(Tiny.model())
        data = try Tiny.dataRoot()
    }

    func tune(_ out: URL, _ extra: [String] = []) throws -> CommandResult {
        try legible(["tune", "--model", model.path, "--data", data.path, "--task", "sst-2", "--split", "16-100",
                     "--prompt-length", "4", "--steps", "6", "--batch", "6", "--lr", "0.01", "--eval-every", "3",
                     "--scrutability", "0.1", "--out", out.path] + extra)
    }

    @Test func tuneThenEvalThenDecode() throws {
        let out = runs.appendingPathComponent("pez")
        let tuned = try tune(out)
        #expect(tuned.status == 0, "\(tuned.error)")
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.method == "pez" && report.steps == 6 && report.prompt.ids.count == 4)
        #expect(report.test.examples == 12 && (0...1).contains(report.test.accuracyProjected))
        #expect(report.scrutability.logPerplexity > 0)
        let log = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 6)
        #expect(tuned.output.contains("prompt:") && tuned.output.contains("zero-shot:") && tuned.output.contains("predicts:"))
        #expect(report.test.predictionRates?.soft != nil && report.faithfulness.agreementEmpty != nil)

        let evaluated = try legible(["eval", "--model", model.path, "--data", data.path, "--prompt", out.appendingPathComponent("prompt.safetensors").path, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let again = try JSONDecoder().decode(RunReport.self, from: Data(evaluated.output.utf8))
        #expect(again.test.accuracyProjected == report.test.accuracyProjected)
        #expect(again.prompt.ids == report.prompt.ids)

        // Zero-shot scores are kept per model on disk, one file per baseline, and read back by a later run;
        // --no-zero-shot-cache neither reads nor writes them.
        let cache = runs.appendingPathComponent("cache")
        let cached = { (arguments: [String]) in
            try legible(["eval", "--model", self.model.path, "--data", self.data.path, "--text", "Overall,", "--json"] + arguments,
                        environment: ["LEGIBLE_CACHE_DIR": cache.path])
        }
        let keptFiles = { (try? FileManager.default.subpathsOfDirectory(atPath: cache.path))?.filter { $0.hasSuffix(".json") } ?? [] }
        let uncached = try cached(["--no-zero-shot-cache"])
        #expect(uncached.status == 0 && keptFiles().isEmpty, "\(uncached.error)")
        let first = try cached([]), second = try cached([])
        #expect(first.status == 0 && second.status == 0 && keptFiles().count == 2, "\(keptFiles())")
        let zeroShots = try [uncached, first, second].map { try JSONDecoder().decode(RunReport.self, from: Data($0.output.utf8)).zeroShot }
        for later in zeroShots.dropFirst() {
            #expect(later.accuracyEmpty == zeroShots[0].accuracyEmpty && later.accuracyManual == zeroShots[0].accuracyManual)
            #expect(later.predictionRatesEmpty == zeroShots[0].predictionRatesEmpty)
        }
        #expect(zeroShots[0].accuracyEmpty == report.zeroShot.accuracyEmpty)

        let decoded = try legible(["decode", "--model", model.path, "--prompt", out.appendingPathComponent("prompt.safetensors").path, "--top", "3"])
        #expect(decoded.status == 0, "\(decoded.error)")
        #expect(decoded.output.split(separator: "\n").filter { $0.hasPrefix("  ") }.count == 4)
        #expect(decoded.output.contains("nearest tokens as text"))

        let summary = try legible(["summary", out.path])
        #expect(summary.status == 0 && summary.output.hasPrefix("pez ") && summary.output.contains("log-ppl"), "\(summary.error)")
        #expect(summary.output.contains(String(reflecting: report.prompt.text)))
        // A folder without a report is named and skipped; the finished run after it is still summarized.
        let mixed = try legible(["summary", runs.path, out.path])
        #expect(mixed.status != 0 && mixed.error.contains("no report.json") && mixed.error.contains("skipped"))
        #expect(mixed.output.hasPrefix("pez ") && mixed.output.contains(String(reflecting: report.prompt.text)))

        let text = try legible(["eval", "--model", model.path, "--data", data.path, "--text", " Movie review:"])
        #expect(text.status == 0 && text.output.contains("text prompt"), "\(text.error)")
    }

    /// tune → export → import → eval: the soft prompt crosses a PEFT adapter unchanged and scores the same.
    @Test func aSoftPromptRoundTripsThroughAPEFTAdapter() throws {
        let out = runs.appendingPathComponent("soft"), adapter = runs.appendingPathComponent("adapter")
        let tuned = try tune(out, ["--method", "soft"])
        #expect(tuned.status == 0, "\(tuned.error)")
        let promptFile = out.appendingPathComponent("prompt.safetensors")
        let exported = try legible(["export", "--prompt", promptFile.path, "--format", "peft", "--out", adapter.path, "--base-model", "tiny/gpt2"])
        #expect(exported.status == 0 && exported.output.contains("4 virtual tokens × 32"), "\(exported.error)")
        let original = try PromptFile.read(from: promptFile)
        let written = try PEFTAdapter.read(from: adapter)
        #expect(written.prompt == original.prompt && written.baseModel == "tiny/gpt2")

        let imported = runs.appendingPathComponent("imported.safetensors")
        let read = try legible(["import", "--peft", adapter.path, "--model", model.path, "--data", data.path, "--task", "sst-2",
                                "--out", imported.path])
        #expect(read.status == 0, "\(read.error)")
        let file = try PromptFile.read(from: imported)
        #expect(file.prompt == original.prompt && file.metadata.method == "soft" && file.metadata.template == original.metadata.template)
        let scores = try [promptFile, imported].map { prompt in
            let evaluated = try legible(["eval", "--model", model.path, "--data", data.path, "--prompt", prompt.path, "--json"])
            #expect(evaluated.status == 0, "\(evaluated.error)")
            return try JSONDecoder().decode(RunReport.self, from: Data(evaluated.output.utf8)).test.accuracy
        }
        #expect(scores[0] != nil && scores[0] == scores[1])

        let refused = try legible(["export", "--prompt", promptFile.path, "--format", "onnx", "--out", adapter.path])
        #expect(refused.status != 0 && refused.error.contains("only peft is supported"))
    }

    @Test func rlpromptTunesResumesAndItsPromptEvaluatesAndDecodes() throws {
        let out = runs.appendingPathComponent("rlprompt")
        let rl = { (extra: [String]) in
            try legible(["tune", "--model", self.model.path, "--data", self.data.path, "--method", "rlprompt", "--prompt-length", "3",
                         "--batch", "6", "--samples-per-step", "4", "--policy-hidden", "16", "--fluent-top-k", "5", "--eval-every", "2",
                         "--scrutability", "0.1", "--faithfulness", "1", "--lr", "1e-3", "--out", out.path] + extra)
        }
        #expect(try rl(["--steps", "2"]).status == 0)
        let resumed = try rl(["--steps", "4", "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.error.contains("resuming") && resumed.error.contains("reward"))
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.method == "rlprompt" && report.steps == 4 && report.prompt.ids.count == 3)
        #expect(report.template == "{sentence} {prompt}")  // RLPrompt's template by default
        #expect(report.test.accuracy == nil && (0...1).contains(report.test.accuracyText))
        let lines = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
        let records = try lines.map { try JSONDecoder().decode(StepRecord.self, from: Data($0.utf8)) }
        #expect(records.map(\.step) == [1, 2, 3, 4])
        for record in records {
            let reward = try #require(record.reward)
            #expect(reward.logPerplexity > 0 && reward.accuracyLost != nil && record.ids.count == 3)
        }

        let prompt = out.appendingPathComponent("prompt.safetensors").path
        let evaluated = try legible(["eval", "--model", model.path, "--data", data.path, "--prompt", prompt, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let again = try JSONDecoder().decode(RunReport.self, from: Data(evaluated.output.utf8))
        #expect(again.prompt.ids == report.prompt.ids && again.test.accuracyProjected == report.test.accuracyProjected)
        let decoded = try legible(["decode", "--model", model.path, "--prompt", prompt])
        #expect(decoded.status == 0 && decoded.output.contains(report.prompt.text.trimmingCharacters(in: .whitespaces)), "\(decoded.output)")
    }

    @Test func gcgTunesResumesAndWritesItsEdits() throws {
        let out = runs.appendingPathComponent("gcg")
        let gcg = { (extra: [String]) in
            try legible(["tune", "--model", self.model.path, "--data", self.data.path, "--method", "gcg", "--batch", "6",
                         "--candidates", "8", "--candidates-per-position", "4", "--edit-budget", "2:1", "--trajectory", "2",
                         "--scrutability", "0.1", "--eval-every", "2", "--initialization", "text: a fine movie", "--out", out.path] + extra)
        }
        #expect(try gcg(["--steps", "2"]).status == 0)
        let resumed = try gcg(["--steps", "4", "--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.method == "gcg" && report.steps == 4 && report.template == "{sentence} {prompt}")
        #expect(report.prompt.ids.count == 3 && report.test.accuracy == nil)  // the prompt length follows the text
        let records = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(StepRecord.self, from: Data($0.utf8)) }
        #expect(records.map(\.step) == [1, 2, 3, 4] && records.allSatisfy { $0.search != nil && $0.edits == nil })
        let accepted = records.filter { $0.search!.accepted }.map(\.step)
        let editLines = (try? String(contentsOf: out.appendingPathComponent("edits.jsonl"), encoding: .utf8))?.split(separator: "\n") ?? []
        let edits = try editLines.map { try JSONDecoder().decode(PromptEdit.self, from: Data($0.utf8)) }
        #expect(Set(edits.map(\.step)) == Set(accepted))  // one or more lines per accepted step, none for the others
        // `legible edits` sorts every one of them into a family.
        let families = try legible(["edits", out.path, "--model", model.path, "--json", "--out", out.appendingPathComponent("edits-page").path])
        if edits.isEmpty {
            #expect(families.status != 0 && families.error.contains("holds no edits.jsonl"))
        } else {
            #expect(families.status == 0, "\(families.error)")
            let analysis = try JSONDecoder().decode(EditAnalysisCounts.self, from: Data(families.output.utf8))
            #expect(analysis.edits == edits.count && analysis.families.reduce(0) { $0 + $1.count } == edits.count && analysis.runs == 1)
            let page = try String(contentsOf: out.appendingPathComponent("edits-page/edits.html"), encoding: .utf8)
            #expect(analysis.families.allSatisfy { page.contains("<td class=\"text\">\($0.name)</td><td>\($0.count)</td>") })
        }
        #expect(report.test.accuracyText == report.test.accuracyProjected)  // candidates are scored as typed
        let evaluated = try legible(["eval", "--model", model.path, "--data", data.path, "--prompt",
                                     out.appendingPathComponent("prompt.safetensors").path, "--json"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        let again = try JSONDecoder().decode(RunReport.self, from: Data(evaluated.output.utf8))
        #expect(again.prompt.ids == report.prompt.ids && again.test.accuracyProjected == report.test.accuracyProjected)
        #expect(try legible(["tune", "--model", model.path, "--data", data.path, "--method", "gcg", "--lr", "0.1", "--out", out.path + "-x"]).status != 0)
        #expect(try legible(["tune", "--model", model.path, "--data", data.path, "--candidates", "8", "--out", out.path + "-y"]).status != 0)
    }

    @Test func resumeContinuesAndRefusesChangedSettings() throws {
        let out = runs.appendingPathComponent("resume")
        #expect(try tune(out, ["--steps", "3"]).status == 0)
        #expect(try tune(out).status != 0)  // the folder holds a run: --resume or another --out
        let resumed = try tune(out, ["--resume"])
        #expect(resumed.status == 0, "\(resumed.error)")
        #expect(resumed.error.contains("resuming") && resumed.error.contains("step 3"))
        let log = try String(contentsOf: out.appendingPathComponent("log.jsonl"), encoding: .utf8)
        #expect(log.split(separator: "\n").count == 6)
        let changed = try tune(out, ["--resume", "--lr", "0.5"])
        #expect(changed.status != 0 && changed.error.contains("different settings"))
    }

    /// `--precision bf16` is recorded in run.json and says so when the model loads; a run resumed in another
    /// precision is refused, as any changed setting is.
    @Test func aBFloat16RunRecordsItsPrecision() throws {
        let out = runs.appendingPathComponent("bf16")
        let tuned = try tune(out, ["--steps", "3", "--precision", "bf16"])
        #expect(tuned.status == 0, "\(tuned.error)")
        #expect(tuned.error.contains("bf16 products"))
        let settings = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as? [String: Any]
        #expect(settings?["precision"] as? String == "bf16")
        let changed = try tune(out, ["--resume"])
        #expect(changed.status != 0 && changed.error.contains("precision"))
        #expect(try tune(out, ["--resume", "--precision", "bf16"]).status == 0)
        let float32 = runs.appendingPathComponent("fp32")
        #expect(try tune(float32, ["--steps", "3"]).status == 0)
        let recorded = try JSONSerialization.jsonObject(with: Data(contentsOf: float32.appendingPathComponent("run.json"))) as? [String: Any]
        #expect(recorded != nil && recorded?["precision"] == nil)
        #expect(try legible(["tune", "--model", model.path, "--precision", "fp16"]).error.contains("fp16"))
    }

    @Test func badInputFailsWithAMessage() throws {
        let cases: [([String], String)] = [
            (["--task", "imdb"], "no task 'imdb' in"),
            (["--verbalizer", " good"], "has 2 classes but 1 label words"),
            (["--split", "16-7"], "has no split '16-7'"),
            (["--verbalizer", "", "--verbalizer", " great"], "each label word needs at least one"),
            (["--prompt-length", "90"], "context is 96"),
            (["--method", "gradient"], "method"),
        ]
        for (extra, message) in cases {
            let result = try tune(runs.appendingPathComponent(UUID().uuidString), extra)
            #expect(result.status != 0, "\(extra) succeeded")
            #expect(result.error.contains(message), "\(extra): \(result.error)")
        }
        let missing = try legible(["eval", "--model", "/nonexistent/model", "--text", "x"])
        #expect(missing.status != 0 && missing.error.contains("no model at"))
        let empty = try Tiny.dataRoot(emptyTest: true)
        let noTest = try legible(["eval", "--model", model.path, "--data", empty.path, "--text", "x"])
        #expect(noTest.status != 0 && noTest.error.contains("holds no examples"))
    }
}

/// The counts of `legible edits --json`, decoded on their own.
struct EditAnalysisCounts: Decodable {
    struct Family: Decodable { var name: String; var count: Int }
    var runs: Int
    var edits: Int
    var families: [Family]
}

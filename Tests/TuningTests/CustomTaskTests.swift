// A researcher's own dataset end to end on a tiny model: a CSV task with label names and a task.json, tuned,
// listed, and evaluated again from the prompt file alone, on its own model and, as text, on another.
import Foundation
import Runs
import Testing

@Suite(.serialized) struct CustomTaskTests {
    let model: URL
    let otherModel: URL
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("legible-custom-\(UUID().uuidString)")
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("legible-custom-run-\(UUID().uuidString)")

    init() throws {
        model = try Tiny.modelDirectory(Tiny.model())
        otherModel = try Tiny.modelDirectory(Tiny.model(seed: 11))
        // CSV with quoting as pandas writes it, label names in the file, the class order and words in task.json.
        // Quoted where pandas quotes: a field holding a comma or a quote.
        let field = { (text: String) in text.contains(",") || text.contains("\"") ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text }
        let rows = zip(Tiny.positive, Tiny.negative).flatMap { ["\(field($0.0 + ", \"really\"")),liked", "\(field($0.1)),disliked"] }
        let split = data.appendingPathComponent("opinions/first")
        try FileManager.default.createDirectory(at: split, withIntermediateDirectories: true)
        for file in ["train", "dev", "test"] {
            try (["review,verdict"] + rows).joined(separator: "\r\n").write(to: split.appendingPathComponent("\(file).csv"), atomically: true, encoding: .utf8)
        }
        let description = #"{"description": "tiny opinions", "labels": ["disliked", "liked"], "label_words": [" bad", " good"], "manual_prompt": "My opinion:", "text_column": "review", "label_column": "verdict"}"#
        try description.write(to: data.appendingPathComponent("opinions/task.json"), atomically: true, encoding: .utf8)
    }

    @Test func tuneListEvalAndDecodeACustomTask() throws {
        let listed = try legible(["tasks", "--data", data.path])
        #expect(listed.status == 0, "\(listed.error)")
        #expect(listed.output.contains("opinions: tiny opinions") && listed.output.contains("disliked \" bad\", liked \" good\""))
        #expect(listed.output.contains("12 train, 12 dev, 12 test in first"))

        let tuned = try legible(["tune", "--model", model.path, "--data", data.path, "--task", "opinions", "--prompt-length", "3",
                                 "--steps", "4", "--batch", "6", "--lr", "0.01", "--eval-every", "2", "--out", out.path])
        #expect(tuned.status == 0, "\(tuned.error)")
        let report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
        #expect(report.task == "opinions" && report.split == "first" && report.verbalizers == [" bad", " good"])
        #expect(report.zeroShot.manualPrompt == "My opinion:" && report.test.examples == 12)

        // The prompt file alone is enough: no --data, --task, --split or label words.
        let prompt = out.appendingPathComponent("prompt.safetensors").path
        let again = try legible(["eval", "--model", model.path, "--prompt", prompt, "--json"])
        #expect(again.status == 0, "\(again.error)")
        let reproduced = try JSONDecoder().decode(RunReport.self, from: Data(again.output.utf8))
        #expect(reproduced.test.accuracy == report.test.accuracy && reproduced.test.accuracyProjected == report.test.accuracyProjected)
        #expect(reproduced.test.accuracyText == report.test.accuracyText && reproduced.zeroShot.accuracyManual == report.zeroShot.accuracyManual)
        #expect(again.error.contains("evaluating on opinions first from \(data.path)"))

        let overridden = try legible(["eval", "--model", model.path, "--prompt", prompt, "--verbalizer", " poor", "--verbalizer", " fine"])
        #expect(overridden.status == 0 && overridden.error.contains("--verbalizer overrides the prompt file's label words \" bad\" \" good\""), "\(overridden.error)")

        // Another model: refused as a continuous prompt, evaluated as typed text.
        let refused = try legible(["eval", "--model", otherModel.path, "--prompt", prompt])
        #expect(refused.status != 0 && refused.error.contains("add --as-text"))
        let transferred = try legible(["eval", "--model", otherModel.path, "--prompt", prompt, "--as-text", "--json"])
        #expect(transferred.status == 0, "\(transferred.error)")
        let text = try JSONDecoder().decode(RunReport.self, from: Data(transferred.output.utf8))
        #expect(text.method == "pez as text" && text.test.accuracy == nil && text.prompt.text == report.prompt.text)

        // gcg from the task's own manual prompt, at its length: no steps, so the handed-out prompt is that text.
        let manualRun = out.appendingPathComponent("manual")
        let started = try legible(["tune", "--model", model.path, "--data", data.path, "--task", "opinions", "--method", "gcg",
                                   "--initialization", "manual", "--steps", "0", "--out", manualRun.path])
        #expect(started.status == 0, "\(started.error)")
        let manualReport = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: manualRun.appendingPathComponent("report.json")))
        #expect(manualReport.prompt.text == " My opinion:" && manualReport.test.accuracyText == manualReport.zeroShot.accuracyManual)
        let conflicting = try legible(["tune", "--model", model.path, "--data", data.path, "--task", "opinions", "--initialization", "manual",
                                       "--prompt-length", "3", "--out", manualRun.path])
        #expect(conflicting.status != 0 && conflicting.error.contains("drop --prompt-length"))

        let decoded = try legible(["decode", "--model", model.path, "--prompt", prompt])
        #expect(decoded.status == 0 && decoded.output.contains("tuned on opinions first from \(data.path)") && decoded.output.contains("\" bad\" \" good\""))
    }
}

// `legible verify`: proves a GPT-2 124M checkpoint is OpenAI's, tensor by tensor.
import ArgumentParser
import Foundation
import Models
import WeightFiles

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a GPT-2 124M checkpoint's tensors against the checksums of OpenAI's release.",
        discussion: "Exits 0 only when every tensor in the manifest is present and matches.")

    @Argument(help: ArgumentHelp("A directory holding model.safetensors, or the file itself.", valueName: "model-dir"))
    var path: String

    @Option(help: "Checksum manifest (default: openai-checkpoint-manifest.json beside the weights, else models/gpt2/).")
    var manifest: String?

    @Flag(help: "List every tensor, not only the ones that fail.") var all = false

    func run() throws {
        let url = URL(fileURLWithPath: path)
        let weights = isDirectory(url) ? url.appendingPathComponent("model.safetensors") : url
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw CLIError("\(weights.path) not found; scripts/fetch-model gpt2 downloads it")
        }
        let manifestURL = manifest.map(URL.init(fileURLWithPath:)) ?? [
            weights.deletingLastPathComponent().appendingPathComponent("openai-checkpoint-manifest.json"),
            URL(fileURLWithPath: "models/gpt2/openai-checkpoint-manifest.json"),
        ].first { FileManager.default.fileExists(atPath: $0.path) } ?? URL(fileURLWithPath: "models/gpt2/openai-checkpoint-manifest.json")
        let verdicts = try CheckpointVerifier.verify(SafetensorsFile(path: weights.path), against: CheckpointManifest.load(from: manifestURL))
        var counts = (match: 0, differ: 0, missing: 0)
        for verdict in verdicts {
            let line: String
            switch verdict.status {
            case .match:
                counts.match += 1
                line = "match    \(verdict.name)"
            case .differ(let expected, let found):
                counts.differ += 1
                line = "DIFFER   \(verdict.name): checksum \(hex(found)), expected \(hex(expected))"
            case .wrongShape(let expected, let found):
                counts.differ += 1
                line = "DIFFER   \(verdict.name): shape \(found), expected \(expected)"
            case .missing:
                counts.missing += 1
                line = "MISSING  \(verdict.name)"
            }
            if all || verdict.status != .match { print(line) }
        }
        print("\(verdicts.count) tensors: \(counts.match) match, \(counts.differ) differ, \(counts.missing) missing")
        if counts.match != verdicts.count { throw ExitCode(1) }
        print("\(weights.path) is the genuine OpenAI GPT-2 124M checkpoint")
    }

    private func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16).leftPadded(to: 8) }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
